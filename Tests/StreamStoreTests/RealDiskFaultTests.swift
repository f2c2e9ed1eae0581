import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// The store on a real filesystem that fills up (a loop-mounted ext4 image, or a size-limited
/// tmpfs where loop devices are missing), at each moment that writes: mid-append, a segment
/// roll, a checkpoint, a group commit, a projection snapshot, a group offset log compaction, a
/// retention run, a correlation filter. After each: one clear `ENOSPC` error, nothing
/// acknowledged lost, nothing unacknowledged reported as written, `verify` clean, and once
/// space is freed the same store and a new one (and a `stream-tool verify` process) carry on.
///
/// `make test` runs each moment once; `make fault-test` sets `STREAMSTORE_FAULT_TESTS=full`,
/// which adds partitions and flush policies to the moments that depend on them.
@Suite(.timeLimit(.minutes(5)), .serialized, .enabled(if: ScratchDisk.unavailableReason == nil, "mounting a scratch filesystem (loop-mounted ext4, or tmpfs) needs root"))
struct RealDiskFaultTests {
    static let isFull = ProcessInfo.processInfo.environment["STREAMSTORE_FAULT_TESTS"] == "full"
    static let appendCases: [(partitions: Int, flush: FlushPolicy)] =
        isFull ? [(1, .everyAppend), (4, .everyAppend), (2, .interval(milliseconds: 5)), (3, .never)] : [(2, .everyAppend)]

    // MARK: Moments

    /// The store fills the disk itself: the append that meets ENOSPC fails, every append
    /// before it stands.
    @Test(arguments: RealDiskFaultTests.appendCases.indices)
    func midAppend(caseIndex: Int) async throws {
        let (partitions, flush) = Self.appendCases[caseIndex]
        let disk = try await ScratchDisk.mount(megabytes: 8)
        defer { disk.unmount() }
        // A filler holds all but ~2 MiB: the store fills that, and freeing the filler gives room.
        try disk.fill(leavingBytes: 2 << 20)
        let run = try DiskRun(disk: disk)
        let topic = try run.store().createTopic("events", config: TopicConfig(partitionCount: partitions, maxIndexBytes: 64 << 10, flush: flush))
        let failure = try await run.appendUntilFull(topic, recordsPerBatch: 200)
        #expect(failure.code == .io(errno: ENOSPC) || failure.code == .io(errno: EDQUOT), "\(failure)")
        try await run.expectOnlyAcknowledged(topic)
        try await run.carryOn(afterFreeing: disk)
    }

    /// Rolls on a nearly full disk: each new segment's indexes are preallocated as their first
    /// entries arrive, which fails. The batch that needed the room is refused before the log
    /// holds it (it used to be written, reported as failed, and the partition fenced).
    @Test func segmentRoll() async throws {
        let disk = try await ScratchDisk.mount(megabytes: 16)
        defer { disk.unmount() }
        let run = try DiskRun(disk: disk)
        // Segments roll every 32 KiB of log; each one's two indexes start at 64 KiB of space.
        let topic = try run.store().createTopic("events", config: TopicConfig(segmentBytes: 32 << 10, maxIndexBytes: 1 << 20))
        try await run.append(topic, batches: 1, recordsPerBatch: 100)
        try disk.fill(leavingBytes: 320 << 10)
        let failure = try await run.appendUntilFull(topic, recordsPerBatch: 100)
        #expect(failure.code == .io(errno: ENOSPC), "\(failure)")
        #expect(try run.segmentCount(topic) > 1, "segments rolled on the nearly full disk")
        try await run.expectOnlyAcknowledged(topic)
        try await run.carryOn(afterFreeing: disk)
    }

    /// A clean close on a full disk cannot write its producer snapshot and checkpoint: it
    /// fails with ENOSPC, leaves no clean-shutdown marker, and the next open recovers every
    /// acknowledged record.
    @Test func checkpointAtClose() async throws {
        let disk = try await ScratchDisk.mount(megabytes: 8)
        defer { disk.unmount() }
        let run = try DiskRun(disk: disk)
        // No index entries: a close trims the indexes, and trimming preallocated ones would give
        // the full disk back the room the checkpoint needs.
        let topic = try run.store().createTopic("events", config: TopicConfig(partitionCount: 2, indexIntervalBytes: 1 << 30))
        try await run.append(topic, batches: 6, recordsPerBatch: 100)
        try disk.fill()
        let store = try run.store()
        let failure = await expectStoreError { try store.close() }
        #expect(failure?.code == .io(errno: ENOSPC), "\(String(describing: failure))")
        #expect(!FileManager.default.fileExists(atPath: run.path + "/" + FileNames.cleanShutdown))
        try run.expectNoTemporaryFiles()
        disk.freeFiller()
        let reopened = try run.reopen(afterClose: false)
        #expect(!reopened.openedCleanly)
        try await run.expectOnlyAcknowledged(try reopened.topic("events"))
        try await run.carryOn(afterFreeing: disk)
    }

    /// A crash while the disk is full, and the store opened again before any space is freed
    /// (an operator's first move: look at it, and run retention). The open recovers every
    /// acknowledged record without room to write anything, reads work, retention frees space,
    /// and appends carry on in the same process.
    @Test func openAfterACrashOnAFullDisk() async throws {
        let disk = try await ScratchDisk.mount(megabytes: 8)
        defer { disk.unmount() }
        let run = try DiskRun(disk: disk)
        // The topic goes out of scope before the crash: a live reference would keep the files
        // of the crashed store open, and their blocks taken, which a dead process does not.
        do {
            let topic = try run.store().createTopic(
                "events", config: TopicConfig(partitionCount: 2, segmentBytes: 64 << 10, maxIndexBytes: 16 << 10, retentionBytes: 128 << 10))
            try await run.append(topic, batches: 40, recordsPerBatch: 50)
            try disk.fill(leavingBytes: 256 << 10)
            let failure = try await run.appendUntilFull(topic, recordsPerBatch: 50)
            #expect(failure.isOutOfSpace, "\(failure)")
        }
        try disk.fill()
        let reopened = try run.reopen(afterClose: false)
        #expect(!reopened.openedCleanly)
        let events = try reopened.topic("events")
        try await run.expectOnlyAcknowledged(events)
        let report = try reopened.enforceRetention(topic: "events")
        #expect(report.contains { !$0.deleted.isEmpty }, "retention freed space")
        run.forgetBelowLogStart(events)
        try await run.append(events, batches: 2, recordsPerBatch: 50)
        try await run.expectOnlyAcknowledged(events)
        try await run.carryOn(afterFreeing: disk)
    }

    /// Group commits on a full disk: the commit whose frame finds no block fails, and neither
    /// this process nor a new one reads it back; the commit before it stands.
    @Test func groupCommit() async throws {
        let disk = try await ScratchDisk.mount(megabytes: 8)
        defer { disk.unmount() }
        let run = try DiskRun(disk: disk)
        let topic = try run.store().createTopic("events", config: TopicConfig(maxIndexBytes: 64 << 10))
        try await run.append(topic, batches: 5, recordsPerBatch: 200)
        let group = try run.store().group("billing")
        try await group.commit(topic: "events", offsets: [0: 1])
        try disk.fill()
        var acknowledged: Int64 = 1
        var failure: StreamStoreError?
        for round in 2..<20_000 where failure == nil {
            let offset = Int64(round % 999 + 1)
            do throws(StreamStoreError) {
                try await group.commit(topic: "events", offsets: [0: offset])
                acknowledged = offset
            } catch {
                failure = error
            }
        }
        #expect(failure?.code == .io(errno: ENOSPC), "\(String(describing: failure))")
        #expect(try group.committedOffsets(topic: "events") == [0: acknowledged])
        disk.freeFiller()
        try await group.commit(topic: "events", offsets: [0: 1000])
        let reopened = try run.reopen(afterClose: true)
        #expect(try reopened.group("billing").committedOffsets(topic: "events") == [0: 1000])
        try await run.expectOnlyAcknowledged(try reopened.topic("events"))
        try await run.carryOn(afterFreeing: disk)
    }

    /// A projection rebuild on a full disk: the snapshot cannot be saved, the rebuild fails
    /// with ENOSPC, no half-written snapshot is left, and the earlier snapshot still loads.
    @Test func projectionSnapshot() async throws {
        let disk = try await ScratchDisk.mount(megabytes: 8)
        defer { disk.unmount() }
        let run = try DiskRun(disk: disk)
        let topic = try run.store().createTopic("events", config: TopicConfig(maxIndexBytes: 64 << 10))
        try await run.append(topic, batches: 2, recordsPerBatch: 100)
        let first = try await run.store().rebuild(CountRecords(), from: "events")
        #expect(first.state == 200)
        try await run.append(topic, batches: 1, recordsPerBatch: 100)
        try disk.fill()
        let failure = await expectStoreError { _ = try await run.store().rebuild(CountRecords(), from: "events") }
        #expect(failure?.code == .io(errno: ENOSPC), "\(String(describing: failure))")
        try run.expectNoTemporaryFiles()
        disk.freeFiller()
        let again = try await run.store().rebuild(CountRecords(), from: "events")
        #expect(again.state == 300)
        #expect(again.report.snapshotSequence == first.report.savedSnapshotSequence, "the earlier snapshot still loads")
        #expect(again.report.savedSnapshotSequence != nil)
        try await run.expectOnlyAcknowledged(topic)
        try await run.carryOn(afterFreeing: disk)
    }

    /// A group offset log passing its compaction size on a nearly full disk: the commit frame
    /// fits, the snapshot does not. The commit stands (it is durable), the failed snapshot is
    /// removed, and a later commit compacts once space is back.
    @Test func groupOffsetCompaction() async throws {
        let disk = try await ScratchDisk.mount(megabytes: 8)
        defer { disk.unmount() }
        let folder = disk.mountPoint + "/groups"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/billing.offsets"
        let failures = Locked<[StreamStoreError]>([])
        let log = try GroupOffsetLog(
            path: path, lockPath: folder + "/billing.lock", folder: folder, fileSystem: PosixFileSystem.shared,
            onCompactionFailure: { error in failures.withLock { $0.append(error) } })
        let keys = (0..<1000).map { GroupOffsetLog.Key(topic: "events", partition: $0) }
        let frameBytes = GroupOffsetLog.frame(kind: 1, entries: keys.map { ($0, 1) }, nowMilliseconds: 0).count
        var round: Int64 = 0
        // Up to one frame short of the size that triggers compaction.
        while fileSizeOrZero(path) + frameBytes <= Int(GroupOffsetLog.compactionThresholdBytes) {
            round += 1
            try log.commit(keys.map { ($0, round) }, nowMilliseconds: round, sync: true)
        }
        // Room for the next commit's frame, not for the snapshot the compaction after it writes.
        try disk.fill(leavingBytes: Int64(frameBytes + frameBytes / 2))
        round += 1
        try log.commit(keys.map { ($0, round) }, nowMilliseconds: round, sync: true)
        #expect(failures.withLock { $0.map(\.code) } == [.io(errno: ENOSPC)], "the compaction ran into the full disk")
        #expect(!FileManager.default.fileExists(atPath: path + FileNames.temporarySuffix))
        let sizeFull = fileSizeOrZero(path)
        let reread = try GroupOffsetLog(path: path, lockPath: folder + "/billing.lock", folder: folder, fileSystem: PosixFileSystem.shared)
        #expect(reread.state[keys[7]]?.offset == round, "the commit stands")

        disk.freeFiller()
        var commitsAfter = 0
        while fileSizeOrZero(path) >= sizeFull && commitsAfter < 20 {
            round += 1
            commitsAfter += 1
            try log.commit(keys.map { ($0, round) }, nowMilliseconds: round, sync: true)
        }
        #expect(fileSizeOrZero(path) < sizeFull, "compacted once space was back")
        #expect(commitsAfter > 1, "not tried again at the very next commit")
        let compacted = try GroupOffsetLog(path: path, lockPath: folder + "/billing.lock", folder: folder, fileSystem: PosixFileSystem.shared)
        #expect(compacted.state[keys[999]]?.offset == round)
    }

    /// Retention run by hand on a full disk, the one time it must not fail: the new log start
    /// has no room to be checkpointed, so the segments go first (freeing the room) and the
    /// checkpoint follows. (It used to fail with nothing deleted: a disk filled to the last
    /// byte could only be rescued by deleting files by hand.)
    @Test func retentionRun() async throws {
        let disk = try await ScratchDisk.mount(megabytes: 8)
        defer { disk.unmount() }
        let run = try DiskRun(disk: disk)
        let topic = try run.store().createTopic(
            "events", config: TopicConfig(segmentBytes: 32 << 10, maxIndexBytes: 16 << 10, retentionBytes: 64 << 10))
        try await run.append(topic, batches: 40, recordsPerBatch: 50)
        let segments = try run.segmentCount(topic)
        #expect(segments > 3)
        try disk.fill()
        let probe = await expectStoreError { try await topic.append([Record(value: "no room")], partition: 0) }
        #expect(probe?.isOutOfSpace == true, "the disk is full before retention runs: \(String(describing: probe))")
        let report = try run.store().enforceRetention(topic: "events")
        let deleted = report.first?.deleted.count ?? 0
        #expect(deleted > 0, "retention deleted nothing on a full disk")
        #expect(try run.segmentCount(topic) == segments - deleted)
        #expect(try topic.logStartOffset(partition: 0) == report.first?.logStartOffset)
        try run.expectNoTemporaryFiles()
        run.forgetBelowLogStart(topic)
        try await run.expectOnlyAcknowledged(topic)
        // The room retention freed takes appends again, with the filler still in place.
        try await run.append(topic, batches: 2, recordsPerBatch: 50)
        try await run.expectOnlyAcknowledged(topic)
        try await run.carryOn(afterFreeing: disk)
    }

    /// A trace on a full disk, for sealed segments whose correlation filter is missing: the
    /// scan finds every record, the filter it built cannot be written, nothing half-written is
    /// left; once space is back the next trace writes the filters.
    @Test func correlationFilter() async throws {
        let disk = try await ScratchDisk.mount(megabytes: 8)
        defer { disk.unmount() }
        let run = try DiskRun(disk: disk)
        let topic = try run.store().createTopic("events", config: TopicConfig(segmentBytes: 16 << 10, maxIndexBytes: 16 << 10))
        try await run.append(topic, batches: 20, recordsPerBatch: 50, correlationIDs: 10)
        let store = try run.store()
        store.correlationFilters.waitUntilIdle()
        let folder = "\(run.path)/events/0"
        let filters = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(FileNames.correlationFilterSuffix) }
        #expect(filters.count > 3, "the background builder wrote the sealed segments' filters")
        for filter in filters { try FileManager.default.removeItem(atPath: folder + "/" + filter) }
        try disk.fill()
        let trace = try store.trace(correlationID: "order-3")
        #expect(trace.records.count == run.acknowledgedCount(correlationID: "order-3"))
        #expect(trace.statistics.segmentsWithoutUsableFilter > 3)
        #expect(trace.statistics.filtersWritten == 0)
        try run.expectNoTemporaryFiles()
        disk.freeFiller()
        let again = try store.trace(correlationID: "order-3")
        #expect(again.records.count == trace.records.count)
        #expect(again.statistics.filtersWritten > 3, "written once space was back")
        try await run.expectOnlyAcknowledged(topic)
        try await run.carryOn(afterFreeing: disk)
    }

    // MARK: Helpers

    private func fileSizeOrZero(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}

/// Counts records: the smallest projection whose state shows what was folded.
private struct CountRecords: Projection {
    let name = "count"
    func initialState() -> Int { 0 }
    func apply(_ record: StoredRecord, to state: inout Int) throws { state += 1 }
}

/// One store on a scratch disk, and what its appends acknowledged: the model every check
/// compares the log with.
private final class DiskRun {
    let disk: ScratchDisk
    let path: String
    private var current: Store?
    /// Partition → offset → value, for every record an append acknowledged.
    private(set) var acknowledged: [Int: [Int64: String]] = [:]
    private var next = 0

    init(disk: ScratchDisk) throws {
        self.disk = disk
        path = disk.mountPoint + "/store"
        current = try Store.open(at: path, options: Self.options)
    }

    deinit { try? current?.close() }

    /// Retention runs only when a test asks.
    static let options = Store.Options(retentionCheckMilliseconds: nil)

    func store() throws -> Store { try #require(current) }

    /// Closes the store (a failure to close counts as a crash), opens a new one on the folder.
    func reopen(afterClose: Bool) throws -> Store {
        if afterClose { try current?.close() }
        current = nil
        let opened = try Store.open(at: path, options: Self.options)
        current = opened
        return opened
    }

    private func batch(partition: Int, records: Int, correlationIDs: Int?) -> (RecordBatch, [String]) {
        var batch = RecordBatch()
        var values: [String] = []
        let padding = String(repeating: "p", count: 150)
        for _ in 0..<records {
            let value = "record-\(next)-\(padding)"
            var record = Record(value: value)
            if let correlationIDs { record.setHeader(.correlationID, "order-\(next % correlationIDs)") }
            try? batch.append(record)
            values.append(value)
            next += 1
        }
        return (batch, values)
    }

    /// Appends `batches` batches, the partitions in turn; each must succeed.
    func append(_ topic: Topic, batches: Int, recordsPerBatch: Int, correlationIDs: Int? = nil) async throws {
        for index in 0..<batches {
            let partition = index % topic.partitionCount
            let (batch, values) = batch(partition: partition, records: recordsPerBatch, correlationIDs: correlationIDs)
            let receipt = try await topic.append(batch, partition: partition)
            acknowledge(receipt, values)
        }
    }

    /// Appends batches, the partitions in turn, until one fails; returns its error.
    func appendUntilFull(_ topic: Topic, recordsPerBatch: Int) async throws -> StreamStoreError {
        for index in 0..<100_000 {
            let partition = index % topic.partitionCount
            let (batch, values) = batch(partition: partition, records: recordsPerBatch, correlationIDs: nil)
            do throws(StreamStoreError) {
                acknowledge(try await topic.append(batch, partition: partition), values)
            } catch {
                return error
            }
        }
        Issue.record("the disk never filled")
        return StreamStoreError(.invalidArgument, "the disk never filled")
    }

    private func acknowledge(_ receipt: AppendReceipt, _ values: [String]) {
        for (index, value) in values.enumerated() {
            acknowledged[receipt.partition, default: [:]][receipt.baseOffset + Int64(index)] = value
        }
    }

    /// Drops the acknowledged records retention deleted.
    func forgetBelowLogStart(_ topic: Topic) {
        for partition in 0..<topic.partitionCount {
            guard let start = try? topic.logStartOffset(partition: partition) else { continue }
            acknowledged[partition] = acknowledged[partition]?.filter { $0.key >= start }
        }
    }

    func acknowledgedCount(correlationID: String) -> Int {
        guard let number = Int(correlationID.dropFirst("order-".count)) else { return 0 }
        return acknowledged.values.reduce(0) { total, records in
            total + records.values.count { value in
                let index = value.split(separator: "-").dropFirst().first.flatMap { Int($0) } ?? -1
                return index % 10 == number
            }
        }
    }

    /// The log holds exactly the acknowledged records (under `.everyAppend`: a record that was
    /// not acknowledged is not there either), and every segment verifies.
    func expectOnlyAcknowledged(_ topic: Topic, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for partition in 0..<topic.partitionCount {
            var stored: [Int64: String] = [:]
            var offset = try topic.logStartOffset(partition: partition)
            while true {
                let records = try topic.read(partition: partition, from: offset, maxBytes: 1 << 20)
                guard let last = records.last else { break }
                for record in records { stored[record.offset] = record.valueString ?? "" }
                offset = last.offset + 1
            }
            let expected = acknowledged[partition] ?? [:]
            let missing = expected.keys.filter { stored[$0] != expected[$0] }.sorted()
            let extra = stored.keys.filter { expected[$0] == nil }.sorted()
            #expect(missing.isEmpty, "partition \(partition): acknowledged but not in the log: \(missing.prefix(5))", sourceLocation: sourceLocation)
            #expect(extra.isEmpty, "partition \(partition): in the log but never acknowledged: \(extra.prefix(5))", sourceLocation: sourceLocation)
            for report in try topic.verify(partition: partition) {
                #expect(report.problems.isEmpty, "\(report.path): \(report.problems)", sourceLocation: sourceLocation)
            }
        }
    }

    func segmentCount(_ topic: Topic, partition: Int = 0) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "\(path)/\(topic.name)/\(partition)").count { $0.hasSuffix(".log") }
    }

    /// No `*.tmp` anywhere in the store: a failed write removed what it began. The background
    /// correlation-filter builder may be writing a filter of a segment sealed just before (its
    /// temporary file exists until that write ends, removed on failure): the check waits for it.
    func expectNoTemporaryFiles(sourceLocation: SourceLocation = #_sourceLocation) throws {
        current?.correlationFilters.waitUntilIdle()
        let found = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(FileNames.temporarySuffix) }
        #expect(found.isEmpty, "left behind: \(found)", sourceLocation: sourceLocation)
    }

    /// After the fault: space is freed, the same store appends again, a new store (opened after
    /// this one closes) holds everything acknowledged, and `stream-tool verify`, a process of
    /// its own, finds the store clean.
    func carryOn(afterFreeing disk: ScratchDisk, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        disk.freeFiller()
        let topic = try store().topic("events")
        try await append(topic, batches: topic.partitionCount, recordsPerBatch: 20)
        try await topic.flush()
        try await expectOnlyAcknowledged(topic, sourceLocation: sourceLocation)
        let reopened = try reopen(afterClose: true)
        #expect(reopened.openedCleanly, sourceLocation: sourceLocation)
        let again = try reopened.topic("events")
        try await expectOnlyAcknowledged(again, sourceLocation: sourceLocation)
        try await append(again, batches: again.partitionCount, recordsPerBatch: 20)
        try await expectOnlyAcknowledged(again, sourceLocation: sourceLocation)
        try reopened.close()
        current = nil
        if let tool = try? productURL("stream-tool") {
            let verify = Process()
            verify.executableURL = tool
            verify.arguments = ["verify", "--store", path]
            verify.standardOutput = FileHandle.nullDevice
            let exit = ProcessExit(verify)
            try verify.run()
            #expect(await exit.wait(seconds: 60), sourceLocation: sourceLocation)
            #expect(verify.terminationStatus == 0, "stream-tool verify found problems in \(path)", sourceLocation: sourceLocation)
        }
    }
}
