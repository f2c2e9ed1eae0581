import Foundation
import Testing

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Opening a partition's folder: a clean shutdown's checkpoint is trusted without a scan; after
/// a crash the log is scanned from the recovery point and cut at the first invalid byte; files
/// an interrupted write left behind are removed; a damaged index is rebuilt from its log.
@Suite(.timeLimit(.minutes(5))) struct PartitionLoaderTests {
    private func values(_ range: Range<Int>) -> [String] { range.map { "value-\($0)" } }

    @Test func anEmptyFolderOpensAsOneEmptySegmentWithACheckpoint() throws {
        let fixture = try LogFixture()
        let opened = try fixture.open(clean: false)
        #expect(opened.segments.map(\.baseOffset) == [0])
        #expect(opened.nextOffset == 0 && opened.logStartOffset == 0 && opened.activeSizeBytes == 0)
        #expect(opened.recovery == nil)
        #expect(try fixture.checkpoint() == Checkpoint(logStartOffset: 0, recoveryPoint: 0))
        #expect(try fixture.files(suffix: FileNames.logSuffix) == [fixture.path("00000000000000000000.log")])
    }

    @Test func aCleanOpenTrustsTheCheckpointAndScansNothing() async throws {
        let fixture = try LogFixture()
        try fixture.open(clean: false)
        let ends = try await fixture.appendNotingEnds(batches: 3)
        try fixture.close()
        #expect(try fixture.checkpoint() == Checkpoint(logStartOffset: 0, recoveryPoint: 30, cleanLogEndOffset: 30, cleanActiveLogBytes: ends[2]))

        let opened = try fixture.open(clean: true)
        #expect(opened.recovery == nil, "a clean open reports no recovery: nothing was scanned")
        #expect(opened.nextOffset == 30 && opened.activeSizeBytes == ends[2])
        #expect(try fixture.values() == values(0..<30))
        try await fixture.append(batches: 1, first: 30)
        #expect(try fixture.values(from: 25) == values(25..<40))
    }

    @Test func theSameFolderOpenedAfterACrashIsScannedFromTheRecoveryPoint() async throws {
        let fixture = try LogFixture()
        try fixture.open(clean: false)
        let ends = try await fixture.appendNotingEnds(batches: 3)
        try fixture.close()
        let opened = try fixture.open(clean: false)
        #expect(opened.recovery == PartitionRecovery(
            topic: "events", partition: 0, scannedBytes: ends[2], truncatedBytes: 0, logEndOffset: 30, reason: nil, deletedSegments: []))
        #expect(try fixture.values() == values(0..<30))
    }

    /// A clean checkpoint that no longer matches the active log (something wrote after the
    /// close) is not trusted: the log is recovered instead.
    @Test func aCleanOpenWhoseLogDisagreesWithTheCheckpointRecovers() async throws {
        let fixture = try LogFixture()
        try fixture.open(clean: false)
        let ends = try await fixture.appendNotingEnds(batches: 3)
        try fixture.close()
        let log = fixture.path("00000000000000000000.log")
        try fixture.write(try fixture.bytes(log) + [1, 2, 3, 4, 5, 6, 7], to: log)

        let recovery = try #require(try fixture.open(clean: true).recovery)
        #expect(recovery.truncatedBytes == 7)
        #expect(recovery.logEndOffset == 30)
        #expect(try fixture.size(log) == ends[2])
        #expect(try fixture.values() == values(0..<30))
    }

    @Test func anUncleanOpenCutsATornLastBatchAndKeepsTheOnesBeforeIt() async throws {
        let fixture = try LogFixture()
        try fixture.open(clean: false)
        let ends = try await fixture.appendNotingEnds(batches: 3)
        fixture.crash()
        let log = fixture.path("00000000000000000000.log")
        try fixture.write(Array(try fixture.bytes(log).dropLast(5)), to: log)

        let recovery = try #require(try fixture.open(clean: false).recovery)
        let lastBatchBytes = ends[2] - ends[1]
        #expect(recovery == PartitionRecovery(
            topic: "events", partition: 0, scannedBytes: ends[1], truncatedBytes: lastBatchBytes - 5, logEndOffset: 20,
            reason: "torn batch at byte \(ends[1]): \(lastBatchBytes - 5) of its \(lastBatchBytes) bytes are present", deletedSegments: []))
        #expect(try fixture.size(log) == ends[1])
        #expect(try fixture.checkpoint() == Checkpoint(logStartOffset: 0, recoveryPoint: 0))
        #expect(try fixture.values() == values(0..<20))
        // The next append takes the offsets the cut batch had.
        #expect(try await fixture.append(batches: 1, first: 20).first?.baseOffset == 20)
    }

    /// A log of several segments (3 batches each), made under `.everyAppend` so every roll
    /// moves the recovery point to the new segment before the next append.
    /// Returns the segments' logs and where each batch ended in its segment.
    private func segmentedLog(_ fixture: LogFixture, batches: Int) async throws -> (logs: [String], ends: [Int64]) {
        try fixture.open(clean: false)
        let ends = try await fixture.appendNotingEnds(batches: batches)
        fixture.crash()
        return (try fixture.files(suffix: FileNames.logSuffix), ends)
    }

    private func segmentFixture() throws -> LogFixture {
        // Batches of 10 records are about 280 bytes: three fit in a segment, a fourth does not.
        try LogFixture(config: .testing(segmentBytes: 1000, flush: .everyAppend))
    }

    /// Everything before the recovery point is known durable: recovery scans only the segments
    /// from the one holding it, so damage before it goes unnoticed here (reads find it).
    @Test func recoveryScansOnlyFromTheSegmentHoldingTheRecoveryPoint() async throws {
        let fixture = try segmentFixture()
        let logs = try await segmentedLog(fixture, batches: 7).logs
        #expect(logs.count == 3)
        #expect(try fixture.checkpoint()?.recoveryPoint == 60)
        try fixture.write(try fixture.bytes(logs[0]).map { $0 ^ 0xff }, to: logs[0])

        let recovery = try #require(try fixture.open(clean: false).recovery)
        #expect(recovery.scannedBytes == (try fixture.size(logs[2])))
        #expect(recovery.truncatedBytes == 0 && recovery.deletedSegments.isEmpty && recovery.logEndOffset == 70)
    }

    /// Without a checkpoint every segment is scanned; offsets are dense, so the segments after
    /// an invalid batch go, and the report names them.
    @Test func withoutACheckpointRecoveryScansEverySegmentAndDropsWhatFollowsDamage() async throws {
        let fixture = try segmentFixture()
        let (logs, ends) = try await segmentedLog(fixture, batches: 7)
        try FileManager.default.removeItem(atPath: fixture.path(FileNames.checkpoints))
        let sizes = try logs.map { try fixture.size($0) }
        // The second batch of the first segment loses a byte of its records (the CRC fails).
        let firstBatchBytes = ends[0]
        var bytes = try fixture.bytes(logs[0])
        bytes[Int(ends[1]) - 3] ^= 0x40
        try fixture.write(bytes, to: logs[0])

        let recovery = try #require(try fixture.open(clean: false).recovery)
        #expect(recovery.scannedBytes == firstBatchBytes)
        #expect(recovery.truncatedBytes == sizes[0] - firstBatchBytes + sizes[1] + sizes[2])
        #expect(recovery.logEndOffset == 10)
        #expect(recovery.deletedSegments == [30, 60])
        #expect(recovery.reason?.hasPrefix("invalid batch at byte \(firstBatchBytes): CRC32C") == true, "\(recovery.reason ?? "no reason")")
        #expect(try fixture.files(suffix: FileNames.logSuffix) == [logs[0]])
        #expect(try fixture.values() == values(0..<10))
    }

    /// What a crash can leave of a file being replaced or deleted, and indexes of a segment
    /// whose log is gone, are removed before anything is read.
    @Test func leftoversOfInterruptedWritesAreRemovedOnOpen() async throws {
        let fixture = try LogFixture()
        try fixture.open(clean: false)
        try await fixture.append(batches: 1)
        try fixture.close()
        let leftovers = [
            "checkpoints.tmp", "00000000000000000000.index.tmp", "00000000000000000099.log.deleted",
            "00000000000000000099.index", "00000000000000000099.timeindex", "00000000000000000099.cfilter",
        ]
        for name in leftovers { try fixture.write([1, 2, 3], to: fixture.path(name)) }

        let opened = try fixture.open(clean: true)
        #expect(opened.recovery == nil)
        let names = try FileManager.default.contentsOfDirectory(atPath: fixture.folder).sorted()
        #expect(names == ["00000000000000000000.index", "00000000000000000000.log", "00000000000000000000.timeindex", "checkpoints", "producers"])
    }

    /// Retention checkpoints the new log start before it unlinks the segments below it; an
    /// open after it stopped in between finishes the job.
    @Test func segmentsBelowTheCheckpointedLogStartAreRemoved() async throws {
        let fixture = try segmentFixture()
        try fixture.open(clean: false)
        try await fixture.append(batches: 7)
        try fixture.close()
        var checkpoint = try #require(try fixture.checkpoint())
        checkpoint.logStartOffset = 30
        try fixture.write(checkpoint.encoded(), to: fixture.path(FileNames.checkpoints))

        let opened = try fixture.open(clean: true)
        #expect(opened.segments.map(\.baseOffset) == [30, 60])
        #expect(opened.logStartOffset == 30)
        #expect(try fixture.files(suffix: FileNames.logSuffix).map { URL(fileURLWithPath: $0).lastPathComponent }
            == ["00000000000000000030.log", "00000000000000000060.log"])
        #expect(try fixture.values(from: 30) == values(30..<70))
    }

    // MARK: Indexes

    enum IndexDamage: String, CaseIterable, Sendable {
        case offsetIndexMissing, offsetIndexZeroed, timeIndexMissing, timeIndexZeroed, offsetIndexCutMidEntry
    }

    /// The active segment's indexes, damaged after a clean close, are rebuilt from the log to
    /// the very bytes the writer made, and the open is still a clean one.
    @Test(arguments: IndexDamage.allCases)
    func aDamagedActiveIndexIsRebuiltOnACleanOpen(damage: IndexDamage) async throws {
        // Batches of 10 records are 250 bytes or more: each after the first gets its entries.
        let fixture = try LogFixture(config: .testing(indexIntervalBytes: 200))
        try fixture.open(clean: false)
        try await fixture.append(batches: 6)
        try fixture.close()
        let offsetIndex = fixture.path("00000000000000000000.index")
        let timeIndex = fixture.path("00000000000000000000.timeindex")
        let written = (offset: try fixture.bytes(offsetIndex), time: try fixture.bytes(timeIndex))
        #expect(written.offset.count == 5 * OffsetIndex.entryBytes && written.time.count == 5 * TimeIndex.entryBytes)
        switch damage {
        case .offsetIndexMissing: try FileManager.default.removeItem(atPath: offsetIndex)
        case .offsetIndexZeroed: try fixture.write([UInt8](repeating: 0, count: written.offset.count), to: offsetIndex)
        case .timeIndexMissing: try FileManager.default.removeItem(atPath: timeIndex)
        case .timeIndexZeroed: try fixture.write([UInt8](repeating: 0, count: written.time.count), to: timeIndex)
        case .offsetIndexCutMidEntry: try fixture.write(Array(written.offset.dropLast(3)), to: offsetIndex)
        }

        let opened = try fixture.open(clean: true)
        #expect(opened.recovery == nil)
        #expect(try fixture.bytes(offsetIndex) == written.offset)
        #expect(try fixture.bytes(timeIndex) == written.time)
        #expect(try fixture.values(from: 35) == values(35..<60))
    }

    /// After a crash the scanned segments' indexes are rebuilt whatever they held: a sealed
    /// segment's gets its final time entry, the active one's has no zeroed slots.
    @Test func recoveryRebuildsTheIndexesOfEveryScannedSegment() async throws {
        let fixture = try segmentFixture()
        let logs = try await segmentedLog(fixture, batches: 7).logs
        try FileManager.default.removeItem(atPath: fixture.path(FileNames.checkpoints))
        let indexes = try fixture.files(suffix: FileNames.offsetIndexSuffix) + fixture.files(suffix: FileNames.timeIndexSuffix)
        for index in indexes { try fixture.write([UInt8](repeating: 0, count: 24), to: index) }

        #expect(try fixture.open(clean: false).recovery?.truncatedBytes == 0)
        let firstTime = try fixture.timeIndex(baseOffset: 0, entryCount: Int(try fixture.size(fixture.path("00000000000000000000.timeindex"))) / 12)
        #expect(firstTime.last == TimeIndex.Entry(timestamp: 1029, relativeOffset: 30), "a sealed segment ends with (newest timestamp, next offset)")
        #expect(try fixture.size(fixture.path("00000000000000000060.index")) == 0, "one batch: no entry")
        #expect(try fixture.size(fixture.path("00000000000000000060.timeindex")) == 0)
        #expect(logs.count == 3)
        #expect(try fixture.values(from: 15) == values(15..<70))
    }
}
