import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Every path that acknowledges says exactly what is durable when a later step fails: records
/// written before the failure are acknowledged (a resend would double them), nothing that
/// failed is reported or later read back as written, and bookkeeping that fails after the
/// work (a checkpoint, a compaction) neither takes back an acknowledgement nor stops the
/// partition for good. docs/DURABILITY.md lists the rule per API.
@Suite(.timeLimit(.minutes(3))) struct AcknowledgementTests {
    /// `count` keys of each partition of a two-partition topic, alternating 0, 1, 0, 1...
    private func alternatingKeys(_ topic: Topic, count: Int) -> [String] {
        var byPartition: [[String]] = [[], []]
        var candidate = 0
        while byPartition.contains(where: { $0.count < count }) {
            let key = "key-\(candidate)"
            let partition = topic.partition(forKey: Array(key.utf8))
            if byPartition[partition].count < count { byPartition[partition].append(key) }
            candidate += 1
        }
        return (0..<count).flatMap { [byPartition[0][$0], byPartition[1][$0]] }
    }

    // MARK: Appends of several records

    /// `Topic.append([Record])` writes each partition's batch concurrently; when one fails, the
    /// others are durable, and used to be reported only by the lowest partition's error.
    @Test func anAppendToSeveralPartitionsThatFailsPartWaySaysWhichRecordsWereWritten() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let topic = try fixture.open(through: fileSystem).createTopic("events", config: TopicConfig(partitionCount: 2))
        let keys = alternatingKeys(topic, count: 3)
        fileSystem.fail(.write, errno: ENOSPC, pathContaining: "events/1/")
        let records = keys.enumerated().map { Record(key: $0.element, value: "value-\($0.offset)") }
        let error = await expectStoreError { _ = try await topic.append(records) }
        #expect(error?.code == .io(errno: ENOSPC))
        let written = try #require(error?.writtenRecords, "the records of partition 0 were written and must be acknowledged")
        #expect(written == [RecordOffset(partition: 0, offset: 0), nil, RecordOffset(partition: 0, offset: 1), nil, RecordOffset(partition: 0, offset: 2), nil])
        #expect(error?.description.contains("3 of the 6 records were written") == true, "\(String(describing: error))")

        // What the error acknowledged is what the log holds; resending the others writes each once.
        #expect(values(try fixture.readAll(topic, partition: 0)) == ["value-0", "value-2", "value-4"])
        #expect(try topic.logEndOffset(partition: 1) == 0)
        let resend = zip(records, written).filter { $0.1 == nil }.map(\.0)
        _ = try await topic.append(resend)
        #expect(values(try fixture.readAll(topic, partition: 1)) == ["value-1", "value-3", "value-5"])
        #expect(try topic.logEndOffset(partition: 0) == 3)
        try fixture.expectConsistent()
    }

    @Test func anAppendThatWritesNothingLeavesWrittenRecordsUnset() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let topic = try fixture.open(through: fileSystem).createTopic("events", config: TopicConfig(partitionCount: 2))
        let keys = alternatingKeys(topic, count: 1)
        fileSystem.fail(.write, errno: EIO, pathContaining: ".log", times: .times(2))
        let error = await expectStoreError { _ = try await topic.append(keys.map { Record(key: $0, value: "v") }) }
        #expect(error?.code == .io(errno: EIO))
        #expect(error?.writtenRecords == nil)
    }

    /// `Producer.send([Record])` threw the first failure and dropped the places of the records
    /// of the batches that were appended.
    @Test func aProducerSendOfManyRecordsThatFailsPartWaySaysWhichRecordsWereWritten() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let store = try fixture.open(through: fileSystem)
        let topic = try store.createTopic("events", config: TopicConfig(partitionCount: 2))
        let keys = alternatingKeys(topic, count: 2)
        let producer = try store.producer(for: "events", options: Producer.Options(idempotent: false))
        fileSystem.fail(.write, errno: ENOSPC, pathContaining: "events/1/", times: .always)
        let records = keys.enumerated().map { Record(key: $0.element, value: "value-\($0.offset)") }
        let error = await expectStoreError { _ = try await producer.send(records) }
        #expect(error?.code == .io(errno: ENOSPC))
        #expect(error?.writtenRecords == [RecordOffset(partition: 0, offset: 0), nil, RecordOffset(partition: 0, offset: 1), nil])
        #expect(values(try fixture.readAll(topic, partition: 0)) == ["value-0", "value-2"])
        #expect(try topic.logEndOffset(partition: 1) == 0)
        fileSystem.clearFaults()
        try await producer.close()
    }

    // MARK: Consumer group commits

    /// A commit frame whose fdatasync failed stayed in the offsets file, so the next read (in
    /// this process or another) took the refused commit for committed.
    @Test func aCommitWhoseFsyncFailedIsNeverReadBackAsCommitted() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let store = try fixture.open(through: fileSystem)
        let topic = try store.createTopic("events", config: TopicConfig(flush: .everyAppend))
        try await fixture.append(topic, count: 10, batchSize: 5)
        let group = try store.group("billing")
        try await group.commit(topic: "events", offsets: [0: 4])
        fileSystem.fail(.fdatasync, errno: EIO, pathContaining: ".offsets")
        let error = await expectStoreError { try await group.commit(topic: "events", offsets: [0: 9]) }
        #expect(error?.code == .io(errno: EIO))
        #expect(try group.committedOffsets(topic: "events") == [0: 4], "a refused commit reads back as committed")
        try await group.commit(topic: "events", offsets: [0: 6])
        #expect(try group.committedOffsets(topic: "events") == [0: 6])

        try store.close()
        let reopened = try fixture.open(through: fileSystem)
        #expect(try reopened.group("billing").committedOffsets(topic: "events") == [0: 6])
    }

    /// `Consumer.process` whose commit fails after records were dead-lettered: the error says
    /// where each dead letter of the call landed (the report it returns is lost to the throw),
    /// the one whose commit failed included.
    @Test func aProcessRunThatFailsAfterDeadLettersSaysWhereTheyAre() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let store = try fixture.open(through: fileSystem)
        let topic = try store.createTopic("events", config: TopicConfig(flush: .everyAppend))
        try await fixture.append(topic, count: 6, batchSize: 1)
        let consumer = try store.consumer(group: "billing", topic: "events")
        // Offsets 1 and 3 keep failing; the commit after the second dead letter fails.
        let failing: Set<Int64> = [1, 3]
        var handled = 0
        let error = await expectStoreError {
            _ = try await consumer.process(retry: RetryPolicy(maxAttempts: 1), maxRecords: 6) { record in
                handled += 1
                if record.offset == 2 { fileSystem.fail(.fdatasync, errno: EIO, pathContaining: ".offsets", after: 1) }
                if failing.contains(record.offset) { throw GivenUp() }
            }
        }
        #expect(error?.code == .io(errno: EIO), "\(String(describing: error))")
        let letters = try fixture.readAll(try store.deadLetterTopic(for: "events"))
        #expect(letters.count == 2)
        #expect(error?.writtenRecords == letters.map { RecordOffset(partition: 0, offset: $0.offset) })
        #expect(try consumer.group.committedOffsets(topic: "events") == [0: 3], "the second dead letter's commit failed")
        #expect(handled == 4)
        consumer.close()
    }

    private struct GivenUp: NonRetriableError {}

    /// The compaction that follows a commit once the offsets log passes 1 MiB failed the
    /// commit when it could not write its snapshot, though the commit was already durable; its
    /// half-written snapshot stayed behind, holding the space it failed for.
    @Test func aCompactionThatFailsAfterACommitLeavesTheCommitStandingAndNoTemporaryFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ack-compaction-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fileSystem = FaultyFileSystem()
        let path = folder + "/billing.offsets"
        var failures: [StreamStoreError] = []
        let log = try GroupOffsetLog(
            path: path, lockPath: folder + "/billing.lock", folder: folder, fileSystem: fileSystem, onCompactionFailure: { failures.append($0) })
        fileSystem.fail(.write, errno: ENOSPC, pathContaining: ".offsets.tmp", times: .always)
        // Frames of 1,000 entries (~20 KiB): past 1 MiB after ~52 commits, and a snapshot of
        // 1,000 entries is far under a quarter of that.
        let keys = (0..<1000).map { GroupOffsetLog.Key(topic: "events", partition: $0) }
        var round: Int64 = 0
        while failures.isEmpty && round < 100 {
            round += 1
            try log.commit(keys.map { ($0, round) }, nowMilliseconds: round, sync: false)
        }
        #expect(failures.count == 1, "the compaction was attempted and failed")
        #expect(failures.first?.code == .io(errno: ENOSPC))
        #expect(!FileManager.default.fileExists(atPath: path + FileNames.temporarySuffix), "the failed snapshot was removed")
        #expect(log.state[keys[0]]?.offset == round)
        // The next commit does not try again at once (the disk is still full)...
        try log.commit(keys.map { ($0, round + 1) }, nowMilliseconds: round + 1, sync: false)
        #expect(failures.count == 1)
        // ...and once space is back, a later one compacts.
        fileSystem.clearFaults()
        let sizeBefore = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        for extra in Int64(2)...6 { try log.commit(keys.map { ($0, round + extra) }, nowMilliseconds: round + extra, sync: false) }
        let sizeAfter = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(sizeAfter < sizeBefore, "compacted once it could")
        let reread = try GroupOffsetLog(path: path, lockPath: folder + "/billing.lock", folder: folder, fileSystem: PosixFileSystem.shared)
        #expect(reread.state[keys[999]]?.offset == round + 6)
    }

    // MARK: Bookkeeping after the work

    /// After a roll, the new segment's index is preallocated when its first entry arrives; on
    /// a full disk that failed after the batch was in the log: the append reported a failure
    /// for a written batch, and the partition was fenced until the store was reopened.
    @Test func anIndexThatCannotGrowRefusesItsBatchBeforeWritingAndTheNextAppendsGoOn() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let topic = try fixture.open(through: fileSystem).createTopic("events", config: TopicConfig(segmentBytes: 4096, indexIntervalBytes: 1))
        try await fixture.append(topic, count: 30, batchSize: 10)
        let segmentsBefore = try fixture.segmentFiles().count
        fileSystem.fail(.fallocate, errno: ENOSPC, pathContaining: ".index")
        var appended = 30
        var failure: StreamStoreError?
        while failure == nil && appended < 3000 {
            failure = await storeErrorIfAny { try await fixture.append(topic, count: 10, batchSize: 10, first: appended) }
            if failure == nil { appended += 10 }
        }
        #expect(failure?.code == .io(errno: ENOSPC), "\(String(describing: failure))")
        #expect(try fixture.segmentFiles().count == segmentsBefore + 1, "the roll went through; a batch of the new segment failed")
        #expect(try topic.logEndOffset(partition: 0) == Int64(appended), "the batch that found no index room was not written")
        #expect(values(try fixture.readAll(topic)) == (0..<appended).map { "value-\($0)" })
        try fixture.expectConsistent()

        try await fixture.append(topic, count: 10, batchSize: 10, first: appended)
        #expect(values(try fixture.readAll(topic)) == (0..<(appended + 10)).map { "value-\($0)" })
        try fixture.expectConsistent()
        try fixture.store?.close()
        let reopened = try fixture.open(through: fileSystem)
        #expect(values(try fixture.readAll(try reopened.topic("events"))) == (0..<(appended + 10)).map { "value-\($0)" })
        try fixture.expectConsistent()
    }

    /// A checkpoint that cannot be written after a roll (`.everyAppend` inline, other policies
    /// after the sealed segment's background fsync) fenced the partition, though a checkpoint
    /// only shortens the next recovery.
    @Test(arguments: [FlushPolicy.everyAppend, .never])
    func aCheckpointThatCannotBeWrittenAtARollDoesNotStopAppends(flush: FlushPolicy) async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let topic = try fixture.open(through: fileSystem).createTopic("events", config: TopicConfig(segmentBytes: 4096, flush: flush))
        fileSystem.fail(.write, errno: ENOSPC, pathContaining: "checkpoints.tmp", times: .always)
        try await fixture.append(topic, count: 300, batchSize: 10)
        try topic.partition(0).groupCommit.drain()
        #expect(fileSystem.firedCount(.write) > 0, "a checkpoint was attempted")
        #expect(try fixture.segmentFiles().count > 2)
        try await fixture.append(topic, count: 10, batchSize: 10, first: 300)
        #expect(values(try fixture.readAll(topic)) == (0..<310).map { "value-\($0)" })
        try #require(fixture.store).correlationFilters.waitUntilIdle()
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.partitionFolder()).filter { $0.hasSuffix(FileNames.temporarySuffix) }
        #expect(leftovers.isEmpty, "\(leftovers)")
        fileSystem.clearFaults()
        try fixture.expectConsistent()
        try fixture.store?.close()
        let reopened = try fixture.open(through: fileSystem)
        #expect(values(try fixture.readAll(try reopened.topic("events"))) == (0..<310).map { "value-\($0)" })
    }

    /// Retention moved the log start in memory, then fenced the partition when the checkpoint
    /// could not be written. Now a checkpoint that fails (for a reason other than space: a full
    /// disk deletes first, RetentionTests and RealDiskFaultTests) changes nothing.
    @Test func aRetentionRunWhoseCheckpointCannotBeWrittenChangesNothingAndCanBeRepeated() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let store = try fixture.open(through: fileSystem)
        let topic = try store.createTopic("events", config: TopicConfig(segmentBytes: 4096, retentionBytes: 8192))
        try await fixture.append(topic, count: 300, batchSize: 10)
        let segments = try fixture.segmentFiles()
        fileSystem.fail(.write, errno: EIO, pathContaining: "checkpoints.tmp")
        let error = await expectStoreError { _ = try store.enforceRetention(topic: "events") }
        #expect(error?.code == .io(errno: EIO))
        #expect(try fixture.segmentFiles() == segments, "nothing was deleted")
        #expect(try topic.logStartOffset(partition: 0) == 0)
        try await fixture.append(topic, count: 10, batchSize: 10, first: 300)

        let report = try store.enforceRetention(topic: "events")
        #expect(report.first?.deleted.isEmpty == false)
        let start = try topic.logStartOffset(partition: 0)
        #expect(start > 0)
        #expect(values(try fixture.readAll(topic)) == (Int(start)..<310).map { "value-\($0)" })
        try fixture.expectConsistent()
    }
}
