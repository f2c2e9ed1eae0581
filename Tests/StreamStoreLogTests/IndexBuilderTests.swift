import Foundation
import Testing

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Rebuilding a segment's indexes from its log: the scan finds the entries the writer would
/// have made and stops at the first byte that is not a whole, valid batch; the write puts them
/// in place, with the final time entry of a sealed segment.
@Suite(.timeLimit(.minutes(5))) struct IndexBuilderTests {
    /// A log of batches of `recordsEach` records each, one batch per timestamp of
    /// `maxTimestamps` (every record of a batch has it), offsets dense from `base`; and where
    /// each batch starts.
    private func encodedLog(maxTimestamps: [Int64], recordsEach: Int = 10, base: Int64 = 0) throws -> (bytes: [UInt8], positions: [Int64]) {
        var bytes: [UInt8] = []
        var positions: [Int64] = []
        for (index, timestamp) in maxTimestamps.enumerated() {
            var batch = RecordBatch()
            for record in 0..<recordsEach { try batch.append(key: nil, value: Array("record \(index)-\(record)".utf8), timestamp: timestamp) }
            positions.append(Int64(bytes.count))
            bytes += batch.encoded(baseOffset: base + Int64(index * recordsEach), appendTimeMilliseconds: 0)
        }
        return (bytes, positions)
    }

    /// Writes `bytes` as the log of the segment at `baseOffset` and scans it.
    private func scan(_ bytes: [UInt8], in fixture: LogFixture, baseOffset: Int64 = 0, intervalBytes: Int = 1) throws -> IndexBuilder.Scan {
        let path = FileNames.logFile(folder: fixture.folder, baseOffset: baseOffset)
        try fixture.write(bytes, to: path)
        let log = try File.open(path, create: false, fileSystem: fixture.fileSystem)
        return try IndexBuilder.scan(log: log, logBytes: Int64(bytes.count), baseOffset: baseOffset, intervalBytes: intervalBytes)
    }

    /// With an entry due before every batch, each batch but the first gets an offset entry, and
    /// a time entry only when the running maximum timestamp grew since the last one (so entries
    /// stay monotonic whatever order producers' clocks give).
    @Test func aScanMakesAnOffsetEntryPerIntervalAndATimeEntryWhenTheMaximumGrew() throws {
        let fixture = try LogFixture()
        let log = try encodedLog(maxTimestamps: [5000, 3000, 7000, 6000, 8000])
        let scan = try scan(log.bytes, in: fixture)
        #expect(scan.stop == .end)
        #expect(scan.batchCount == 5)
        #expect(scan.nextOffset == 50)
        #expect(scan.validBytes == Int64(log.bytes.count))
        #expect(scan.offsetEntries.map { [$0.offset, $0.position] } == (1..<5).map { [Int64($0 * 10), log.positions[$0]] })
        #expect(scan.timeEntries.map { [$0.timestamp, $0.offset] } == [[5000, 10], [7000, 30]])
        #expect(scan.maxTimestamp == 8000)
    }

    @Test func aWideIntervalMakesAnEntryOnlyOnceThatManyBytesWereWritten() throws {
        let fixture = try LogFixture()
        let log = try encodedLog(maxTimestamps: Array(repeating: 100, count: 6))
        let batchBytes = Int(log.positions[1])
        let scan = try scan(log.bytes, in: fixture, intervalBytes: 2 * batchBytes)
        #expect(scan.offsetEntries.map(\.offset) == [20, 40])
        #expect(scan.timeEntries.map { [$0.timestamp, $0.offset] } == [[100, 20]])
    }

    @Test func aScanStopsAtATornLastBatchAndKeepsTheBatchesBeforeIt() throws {
        let fixture = try LogFixture()
        let log = try encodedLog(maxTimestamps: [1, 2, 3, 4])
        let cut = Array(log.bytes.prefix(Int(log.positions[3]) + 20))
        let scan = try scan(cut, in: fixture)
        let lastBatchBytes = log.bytes.count - Int(log.positions[3])
        #expect(scan.stop == .torn(position: log.positions[3], neededBytes: lastBatchBytes, availableBytes: 20))
        #expect(scan.validBytes == log.positions[3])
        #expect(scan.batchCount == 3)
        #expect(scan.nextOffset == 30)
        #expect(scan.offsetEntries.map(\.offset) == [10, 20])
    }

    @Test func aScanStopsAtACorruptBatch() throws {
        let fixture = try LogFixture()
        var log = try encodedLog(maxTimestamps: [1, 2, 3])
        // A byte of the second batch's records: its CRC no longer matches.
        log.bytes[Int(log.positions[2]) - 5] ^= 0x40
        let scan = try scan(log.bytes, in: fixture)
        guard case .corrupt(let position, _) = scan.stop else {
            Issue.record("expected a corrupt batch, got \(scan.stop)")
            return
        }
        #expect(position == log.positions[1])
        #expect(scan.validBytes == log.positions[1])
        #expect(scan.batchCount == 1)
        #expect(scan.nextOffset == 10)
    }

    /// Offsets are dense: a first batch that is not at the segment's base, or a batch that does
    /// not follow the one before it, is not part of this log.
    @Test(arguments: [(segmentBase: Int64(7), gapAfterFirst: false), (segmentBase: Int64(0), gapAfterFirst: true)])
    func aScanStopsWhereOffsetsAreNotDense(segmentBase: Int64, gapAfterFirst: Bool) throws {
        let fixture = try LogFixture()
        let first = try encodedLog(maxTimestamps: [1])
        let second = try encodedLog(maxTimestamps: [2], base: gapAfterFirst ? 15 : 10)
        let scan = try scan(first.bytes + second.bytes, in: fixture, baseOffset: segmentBase)
        let stopPosition: Int64 = gapAfterFirst ? Int64(first.bytes.count) : 0
        guard case .corrupt(let position, _) = scan.stop else {
            Issue.record("expected the scan to stop, got \(scan.stop)")
            return
        }
        #expect(position == stopPosition)
        #expect(scan.validBytes == stopPosition)
        #expect(scan.nextOffset == (gapAfterFirst ? 10 : segmentBase))
    }

    @Test func anEmptyLogScansToItsEndWithNothingFound() throws {
        let fixture = try LogFixture()
        let scan = try scan([], in: fixture, baseOffset: 40)
        #expect(scan.stop == .end)
        #expect(scan.batchCount == 0 && scan.validBytes == 0 && scan.nextOffset == 40)
        #expect(scan.offsetEntries.isEmpty && scan.timeEntries.isEmpty)
    }

    /// The written files hold the scan's entries relative to the segment's base; a sealed
    /// segment's time index ends with (newest timestamp, next offset).
    @Test(arguments: [false, true])
    func writtenIndexesHoldTheScansEntriesAndASealedSegmentsFinalTimeEntry(sealed: Bool) throws {
        let fixture = try LogFixture()
        let log = try encodedLog(maxTimestamps: [5000, 3000, 7000, 6000, 8000], base: 100)
        let scan = try scan(log.bytes, in: fixture, baseOffset: 100)
        try fixture.writeIndexes(scan, baseOffset: 100, sealed: sealed)
        let offsetIndex = try fixture.offsetIndex(baseOffset: 100, entryCount: 4)
        #expect(offsetIndex.entries() == (1..<5).map { OffsetIndex.Entry(relativeOffset: UInt32($0 * 10), position: UInt32(log.positions[$0])) })
        #expect(try fixture.size(offsetIndex.file.path) == 4 * 8)
        let timeBytes = try fixture.bytes(FileNames.timeIndexFile(folder: fixture.folder, baseOffset: 100))
        let timeIndex = try fixture.timeIndex(baseOffset: 100, entryCount: timeBytes.count / TimeIndex.entryBytes)
        var expected = [TimeIndex.Entry(timestamp: 5000, relativeOffset: 10), TimeIndex.Entry(timestamp: 7000, relativeOffset: 30)]
        if sealed { expected.append(TimeIndex.Entry(timestamp: 8000, relativeOffset: 50)) }
        #expect(timeIndex.entries() == expected)
        // What was written passes the checks a segment makes before it trusts its indexes.
        let offsetBytes = try fixture.bytes(offsetIndex.file.path)
        #expect(OffsetIndex.validate(offsetBytes, logBytes: Int64(log.bytes.count), segmentEntries: 50) == nil)
        #expect(TimeIndex.validate(timeBytes, segmentEntries: 50) == nil)
        #expect(try fixture.files(suffix: FileNames.temporarySuffix).isEmpty, "written through temporary files renamed into place")
    }

    /// The index the writer made while appending and the one rebuilt from its log are the same
    /// bytes, so a rebuild never changes what lookups find.
    @Test func aRebuiltIndexEqualsTheOneTheWriterMade() async throws {
        // Every batch is over 100 bytes: each after the first gets an offset entry.
        let fixture = try LogFixture(config: .testing(indexIntervalBytes: 100))
        try fixture.open(clean: false)
        let partition = try fixture.opened()
        for (index, timestamp) in [5000, 3000, 7000, 7000, 6500, 9000, 8000, 9500, 9100, 9900].enumerated() {
            var batch = RecordBatch()
            for record in 0..<(3 + index % 4) { try batch.append(key: nil, value: Array("value \(index)-\(record)".utf8), timestamp: Int64(timestamp - record)) }
            _ = try await partition.append(batch)
        }
        try fixture.close()
        let logPath = try #require(try fixture.files(suffix: FileNames.logSuffix).first)
        let written = (offset: try fixture.bytes(try #require(try fixture.files(suffix: FileNames.offsetIndexSuffix).first)),
                       time: try fixture.bytes(try #require(try fixture.files(suffix: FileNames.timeIndexSuffix).first)))
        // Time entries where the running maximum grew: before batches 1, 3, 6 and 8.
        #expect(written.offset.count == 9 * OffsetIndex.entryBytes && written.time.count == 4 * TimeIndex.entryBytes)

        let log = try File.open(logPath, create: false, fileSystem: fixture.fileSystem)
        let scan = try IndexBuilder.scan(log: log, logBytes: try log.size(), baseOffset: 0, intervalBytes: 100)
        try fixture.writeIndexes(scan, baseOffset: 0, sealed: false)
        #expect(try fixture.bytes(try #require(try fixture.files(suffix: FileNames.offsetIndexSuffix).first)) == written.offset)
        #expect(try fixture.bytes(try #require(try fixture.files(suffix: FileNames.timeIndexSuffix).first)) == written.time)
    }
}
