import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Kafka's idempotent producer fields (producer id, epoch, base sequence) are honoured.
@Suite(.timeLimit(.minutes(5))) struct IdempotentProducerTests {
    func batch(producer: Int64 = 7, epoch: Int16 = 0, sequence: Int32, count: Int = 3, tag: String = "") throws -> RecordBatch {
        var batch = RecordBatch()
        batch.producerId = producer
        batch.producerEpoch = epoch
        batch.baseSequence = sequence
        for index in 0..<count { try batch.append(key: nil, value: Array("\(tag)s\(Int(sequence) + index)".utf8)) }
        return batch
    }

    func code(_ body: () async throws -> Void) async -> StreamStoreError.Code? {
        do { try await body() } catch let error as StreamStoreError { return error.code } catch { return nil }
        return nil
    }

    @Test func aRetriedBatchIsNotAppendedTwiceAndReturnsTheOriginalOffsets() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let first = try await topic.append(try batch(sequence: 0), partition: 0)
        let second = try await topic.append(try batch(sequence: 3), partition: 0)
        let retry = try await topic.append(try batch(sequence: 0), partition: 0)
        #expect(first.baseOffset == 0 && second.baseOffset == 3)
        #expect(retry.isDuplicate)
        #expect(retry.duplicates.map(\.originalOffset) == [0, 1, 2])
        #expect(retry.duplicates.allSatisfy { $0.reason == .producerSequence })
        #expect(try topic.logEndOffset(partition: 0) == 6)
        try fixture.expectConsistent()
    }

    @Test func onlyTheLastFiveBatchesCountAsRetries() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        for index in 0..<6 { _ = try await topic.append(try batch(sequence: Int32(index), count: 1), partition: 0) }
        #expect(try await topic.append(try batch(sequence: 1, count: 1), partition: 0).isDuplicate)
        #expect(await code { _ = try await topic.append(try batch(sequence: 0, count: 1), partition: 0) } == .outOfOrderSequence)
    }

    @Test func aGapOrAReorderIsRefused() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append(try batch(sequence: 0), partition: 0)
        #expect(await code { _ = try await topic.append(try batch(sequence: 5), partition: 0) } == .outOfOrderSequence)
        #expect(await code { _ = try await topic.append(try batch(sequence: 1), partition: 0) } == .outOfOrderSequence)
        #expect(try topic.logEndOffset(partition: 0) == 3)
        _ = try await topic.append(try batch(sequence: 3), partition: 0)
        #expect(try topic.logEndOffset(partition: 0) == 6)
    }

    @Test func aNewProducerMustStartAtSequenceZero() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        #expect(await code { _ = try await topic.append(try batch(producer: 9, sequence: 4), partition: 0) } == .outOfOrderSequence)
        _ = try await topic.append(try batch(producer: 9, sequence: 0), partition: 0)
    }

    @Test func anOlderEpochIsFencedAndANewEpochRestartsTheSequence() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append(try batch(epoch: 0, sequence: 0), partition: 0)
        #expect(await code { _ = try await topic.append(try batch(epoch: 1, sequence: 3), partition: 0) } == .outOfOrderSequence)
        _ = try await topic.append(try batch(epoch: 1, sequence: 0, tag: "e1"), partition: 0)
        #expect(await code { _ = try await topic.append(try batch(epoch: 0, sequence: 3), partition: 0) } == .producerFenced)
        // A retry of the old epoch's batch is fenced too, not reported as a duplicate.
        #expect(await code { _ = try await topic.append(try batch(epoch: 0, sequence: 0), partition: 0) } == .producerFenced)
        #expect(try topic.logEndOffset(partition: 0) == 6)
    }

    @Test func sequencesWrapAroundAtInt32Max() {
        #expect(ProducerStateTable.lastSequence(first: Int32.max - 1, count: 3) == 0)
        #expect(ProducerStateTable.following(Int32.max) == 0)
    }

    @Test func producersAreIndependentAndPartitionsTooo() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        _ = try await topic.append(try batch(producer: 1, sequence: 0), partition: 0)
        _ = try await topic.append(try batch(producer: 2, sequence: 0), partition: 0)
        // The same producer's sequence is per partition, as in Kafka.
        _ = try await topic.append(try batch(producer: 1, sequence: 0), partition: 1)
        #expect(try topic.logEndOffset(partition: 0) == 6 && topic.logEndOffset(partition: 1) == 3)
    }

    @Test(arguments: ["clean", "crash", "crash without snapshot", "corrupt snapshot"])
    func theStateSurvivesARestart(_ how: String) async throws {
        let fixture = try StoreFixture()
        var topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never))
        for index in 0..<120 { _ = try await topic.append(try batch(sequence: Int32(index * 3)), partition: 0) }
        #expect(try fixture.segmentFiles().count > 2)
        let snapshot = fixture.partitionFolder() + "/producers"
        switch how {
        case "clean":
            topic = try fixture.reopen().topic("events")
        case "crash":
            topic = try fixture.crashAndReopen().topic("events")
        case "crash without snapshot":
            fixture.crash()
            try FileManager.default.removeItem(atPath: snapshot)
            topic = try fixture.open().topic("events")
        default:
            try fixture.store?.close()
            fixture.store = nil
            try fixture.flipByte(at: 30, in: snapshot)
            topic = try fixture.open().topic("events")
        }
        let retry = try await topic.append(try batch(sequence: 119 * 3), partition: 0)
        #expect(retry.isDuplicate && retry.duplicates.first?.originalOffset == 119 * 3)
        #expect(await code { _ = try await topic.append(try batch(sequence: 500), partition: 0) } == .outOfOrderSequence)
        _ = try await topic.append(try batch(sequence: 360), partition: 0)
        #expect(try topic.logEndOffset(partition: 0) == 363)
        try fixture.expectConsistent()
    }

    @Test func aSnapshotPastTheLogEndAfterRecoveryIsNotTrusted() async throws {
        let fixture = try StoreFixture()
        var topic = try fixture.topic()
        _ = try await topic.append(try batch(sequence: 0), partition: 0)
        _ = try await topic.append(try batch(sequence: 3), partition: 0)
        try fixture.store?.close()
        fixture.store = nil
        // The clean close wrote a snapshot at offset 6; tear the last batch off as a crash would.
        try FileManager.default.removeItem(atPath: fixture.path + "/clean-shutdown")
        let log = try fixture.segmentFiles()[0]
        try fixture.truncate(log, byteCount: 5)
        topic = try fixture.open().topic("events")
        #expect(try topic.logEndOffset(partition: 0) == 3)
        // Sequence 3 was lost with the torn batch, so it is written again, not a duplicate.
        let again = try await topic.append(try batch(sequence: 3), partition: 0)
        #expect(again.recordCount == 3 && again.baseOffset == 3)
    }

    @Test func snapshotsRoundTripAndRejectDamage() throws {
        var table = ProducerStateTable()
        table.record(producerId: 5, epoch: 2, firstSequence: 10, count: 4, baseOffset: 100, lastOffset: 103, now: 1)
        table.record(producerId: 6, epoch: 0, firstSequence: 0, count: 1, baseOffset: 104, lastOffset: 104, now: 2)
        let snapshot = ProducerSnapshot(snapshotOffset: 105, table: table)
        let bytes = snapshot.encoded()
        #expect(ProducerSnapshot.decode(bytes) == snapshot)
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x10
            #expect(ProducerSnapshot.decode(damaged) == nil, "byte \(index)")
        }
        #expect(ProducerSnapshot.decode(Array(bytes.dropLast())) == nil)
    }

    @Test func theLeastRecentlyActiveProducerIsForgottenAtTheBound() throws {
        var table = ProducerStateTable(capacity: 2)
        table.record(producerId: 1, epoch: 0, firstSequence: 0, count: 1, baseOffset: 0, lastOffset: 0, now: 10)
        table.record(producerId: 2, epoch: 0, firstSequence: 0, count: 1, baseOffset: 1, lastOffset: 1, now: 20)
        table.record(producerId: 1, epoch: 0, firstSequence: 1, count: 1, baseOffset: 2, lastOffset: 2, now: 30)
        table.record(producerId: 3, epoch: 0, firstSequence: 0, count: 1, baseOffset: 3, lastOffset: 3, now: 40)
        #expect(Set(table.producers.keys) == [1, 3])
    }

    @Test func messageIDsOfIdempotentBatchesEnterTheWindowButAreNotDropped() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never, dedupeWindowMilliseconds: 60_000))
        var idempotent = RecordBatch()
        idempotent.producerId = 1
        idempotent.producerEpoch = 0
        idempotent.baseSequence = 0
        try idempotent.append(Record(value: "a", headers: [RecordHeader(.messageID, "m-1")]))
        try idempotent.append(Record(value: "a again", headers: [RecordHeader(.messageID, "m-1")]))
        #expect(try await topic.append(idempotent, partition: 0).recordCount == 2)
        let plainRetry = try await topic.append([Record(value: "a", headers: [RecordHeader(.messageID, "m-1")])], partition: 0)
        #expect(plainRetry.isDuplicate && plainRetry.duplicates.first?.originalOffset == 0)
    }

    @Test func aCleanOpenOfALogNoProducerWroteToReadsNoBatchHeaders() async throws {
        // Found by the trace measurements: without a `producers` file, every open scanned the
        // headers of every batch of such a partition to learn it had nothing to remember.
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 64 * 1024, flush: .never))
        try await fixture.append(topic, count: 5_000, batchSize: 10)
        // The sealed segments' correlation filters are built in the background; a writer that
        // closed before they were all built leaves the rest to the next open, whose builds read
        // the logs (on a loaded machine they once had not finished: 66,914 bytes read).
        fixture.store?.correlationFilters.waitUntilIdle()
        try fixture.store?.close()
        fixture.store = nil
        #expect(FileManager.default.fileExists(atPath: fixture.path + "/events/0/producers"))
        let fileSystem = CountingFileSystem()
        let reopened = try fixture.open(through: fileSystem).topic("events")
        #expect(fileSystem.readByteCount < 4096, "a clean open read \(fileSystem.readByteCount) bytes")
        #expect(try reopened.logEndOffset(partition: 0) == 5_000)
        // And a partition only read since it opened does not rewrite the file at close.
        _ = try reopened.read(partition: 0, from: 0)
        let before = try FileManager.default.attributesOfItem(atPath: fixture.path + "/events/0/producers")[.modificationDate] as? Date
        try fixture.store?.close()
        fixture.store = nil
        let after = try FileManager.default.attributesOfItem(atPath: fixture.path + "/events/0/producers")[.modificationDate] as? Date
        #expect(before == after)
    }
}
