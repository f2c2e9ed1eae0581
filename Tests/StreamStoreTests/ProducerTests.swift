import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// The idempotent producer: partitions by key as Kafka does, batches per partition, numbers
/// its batches, retries without duplicates, and gets its id and epoch from the store.
@Suite(.timeLimit(.minutes(5))) struct ProducerTests {
    /// The batches of a partition, in log order.
    private func batches(_ topic: Topic, partition: Int) throws -> [StoredBatch] {
        var offset = try topic.logStartOffset(partition: partition)
        var result: [StoredBatch] = []
        while true {
            let read = try topic.readBatches(partition: partition, from: offset)
            guard let last = read.last else { return result }
            result += read
            offset = last.nextOffset
        }
    }

    @Test func keyedRecordsGoToKafkasPartitionAndTheirOffsetsAreReturned() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(partitionCount: 4, flush: .never))
        let producer = try #require(fixture.store).producer(for: "orders")
        let keys = (0..<40).map { "customer-\($0 % 7)" }
        let offsets = try await producer.send(keys.enumerated().map { Record(key: $1, value: "order-\($0)") })
        for (index, key) in keys.enumerated() {
            #expect(offsets[index].partition == topic.partition(forKey: Array(key.utf8)), "the same partition for String and bytes keys")
            let stored = try topic.read(partition: offsets[index].partition, from: offsets[index].offset, maxBytes: 1).first
            #expect(stored?.offset == offsets[index].offset)
            #expect(stored?.valueString == "order-\(index)")
        }
        // Every record once, and within a partition in the order sent.
        var total = 0
        for partition in 0..<4 {
            let values = try fixture.readAll(topic, partition: partition).compactMap(\.valueString)
            total += values.count
            let sent = keys.indices.filter { offsets[$0].partition == partition }.map { "order-\($0)" }
            #expect(values == sent)
        }
        #expect(total == keys.count)
        try await producer.close()
    }

    @Test func batchesCarryTheProducersIdEpochAndConsecutiveSequencesPerPartition() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(partitionCount: 2, flush: .never))
        let producer = try #require(fixture.store).producer(for: "orders", options: Producer.Options(maxBatchRecords: 3, lingerMilliseconds: 60_000))
        let identity = try #require(producer.identity)
        for index in 0..<20 { _ = try await producer.send(Record(key: "k\(index % 5)", value: "v\(index)")) }
        try await producer.flush()
        var total = 0
        for partition in 0..<2 {
            let stored = try batches(topic, partition: partition)
            total += stored.reduce(0) { $0 + $1.recordCount }
            var sequence: Int32 = 0
            for batch in stored {
                #expect(batch.producerId == identity.producerId)
                #expect(batch.producerEpoch == identity.epoch)
                #expect(batch.baseSequence == sequence)
                #expect(batch.recordCount <= 3)
                sequence += Int32(batch.recordCount)
            }
        }
        #expect(total == 20)
        try await producer.close()
    }

    @Test func fullBatchesGoAtOnceAndTheRestWaitsForLingerOrFlush() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(flush: .never))
        let producer = try #require(fixture.store).producer(for: "orders", options: Producer.Options(maxBatchRecords: 10, lingerMilliseconds: 60_000))
        var deliveries: [Delivery] = []
        for index in 0..<25 { deliveries.append(try await producer.send(Record(value: "v\(index)"))) }
        _ = try await deliveries[19].offset()
        #expect(try batches(topic, partition: 0).map(\.recordCount) == [10, 10], "the two full batches, not the open one")
        try await producer.flush()
        #expect(try batches(topic, partition: 0).map(\.recordCount) == [10, 10, 5])
        #expect(try await deliveries[24].offset() == RecordOffset(partition: 0, offset: 24))
    }

    @Test func aLingeringBatchGoesWhenItsTimeIsUp() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(flush: .never))
        let producer = try #require(fixture.store).producer(for: "orders", options: Producer.Options(lingerMilliseconds: 20))
        var deliveries: [Delivery] = []
        for index in 0..<3 { deliveries.append(try await producer.send(Record(value: "v\(index)"))) }
        for (index, delivery) in deliveries.enumerated() { #expect(try await delivery.offset().offset == Int64(index)) }
        #expect(try batches(topic, partition: 0).map(\.recordCount) == [3])
    }

    @Test func batchesStayUnderTheirByteBound() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(flush: .never))
        let producer = try #require(fixture.store).producer(for: "orders", options: Producer.Options(maxBatchBytes: 1_000, lingerMilliseconds: 60_000))
        let value = String(repeating: "x", count: 300)
        for _ in 0..<10 { _ = try await producer.send(Record(value: value)) }
        try await producer.flush()
        let stored = try batches(topic, partition: 0)
        #expect(stored.reduce(0) { $0 + $1.recordCount } == 10)
        #expect(stored.allSatisfy { $0.recordCount <= 3 }, "\(stored.map(\.recordCount))")
    }

    @Test func aBatchRetriedAfterItWasWrittenIsNotWrittenTwice() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(partitionCount: 2, flush: .never))
        let store = try #require(fixture.store)
        let lostAcknowledgements = Locked(1)
        let attempts = Locked(0)
        // The first append is written, but its caller sees an I/O error, as if the
        // acknowledgement were lost: the producer retries the same batch.
        let producer = try Producer(
            topic: topic, options: Producer.Options(retry: RetryPolicy(maxAttempts: 3, initialBackoffMilliseconds: 0)),
            registerIdentity: { () throws(StreamStoreError) in try store.registerProducer() },
            appendBatch: { (batch: RecordBatch, partition: Int) async throws(StreamStoreError) -> AppendReceipt in
                attempts.withLock { $0 += 1 }
                let receipt = try await topic.append(batch, partition: partition)
                if lostAcknowledgements.withLock({ lost in defer { lost -= 1 }; return lost > 0 }) {
                    throw StreamStoreError.io("append", path: "test", errno: EIO)
                }
                return receipt
            })
        let offsets = try await producer.send((0..<5).map { Record(key: "same-key", value: "v\($0)") })
        let partition = topic.partition(forKey: Array("same-key".utf8))
        #expect(offsets == (0..<5).map { RecordOffset(partition: partition, offset: Int64($0)) })
        #expect(attempts.withLock { $0 } >= 2, "the lost acknowledgement was retried")
        let values = try fixture.readAll(topic, partition: partition).compactMap(\.valueString)
        #expect(values == (0..<5).map { "v\($0)" }, "every record exactly once")
        for (index, offset) in offsets.enumerated() {
            #expect(try topic.read(partition: partition, from: offset.offset, maxBytes: 1).first?.valueString == "v\(index)")
        }
        try await producer.close()
    }

    @Test func aBatchThatFailsForGoodFailsItsRecordsAndTheNextOnesStillGo() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(flush: .never))
        let store = try #require(fixture.store)
        let failures = Locked(1)
        let producer = try Producer(
            topic: topic, options: Producer.Options(retry: RetryPolicy(maxAttempts: 1)),
            registerIdentity: { () throws(StreamStoreError) in try store.registerProducer() },
            appendBatch: { (batch: RecordBatch, partition: Int) async throws(StreamStoreError) -> AppendReceipt in
                if failures.withLock({ left in defer { left -= 1 }; return left > 0 }) {
                    _ = try await topic.append(batch, partition: partition)  // written, but reported failed
                    throw StreamStoreError.io("append", path: "test", errno: EIO)
                }
                return try await topic.append(batch, partition: partition)
            })
        let before = try #require(producer.identity)
        let failed = try await producer.send(Record(value: "first"))
        await expectStoreError(.io(errno: EIO)) { _ = try await failed.offset() }
        let next = try await producer.send([Record(value: "second")])
        #expect(next == [RecordOffset(partition: 0, offset: 1)], "not refused as out of sequence")
        #expect(producer.identity != before, "a new identity after the failure")
    }

    @Test func theStoreHandsOutIdsOnceAndNamedProducersFenceOlderInstances() async throws {
        let fixture = try StoreFixture()
        _ = try fixture.topic("orders", config: TopicConfig(flush: .never))
        let store = try #require(fixture.store)
        let first = try #require(try store.producer(for: "orders").identity)
        let second = try #require(try store.producer(for: "orders").identity)
        #expect(first.producerId != second.producerId)
        let old = try store.producer(for: "orders", options: Producer.Options(name: "order-service"))
        _ = try await old.send([Record(value: "from the old instance")])
        let new = try store.producer(for: "orders", options: Producer.Options(name: "order-service"))
        #expect(new.identity?.producerId == old.identity?.producerId)
        #expect(new.identity?.epoch == (old.identity?.epoch ?? 0) + 1)
        _ = try await new.send([Record(value: "from the new instance")])
        let fenced = await #expect(throws: StreamStoreError.self) { try await old.send([Record(value: "too late")]) }
        #expect(fenced?.code == .producerFenced)

        // After a restart: no id handed out again, the name keeps its id and moves its epoch on.
        let reopened = try fixture.reopen()
        let third = try #require(try reopened.producer(for: "orders").identity)
        #expect(third.producerId > max(first.producerId, second.producerId))
        let again = try reopened.producer(for: "orders", options: Producer.Options(name: "order-service"))
        #expect(again.identity == ProducerIdentity(producerId: new.identity?.producerId ?? -1, epoch: (new.identity?.epoch ?? 0) + 1))
    }

    @Test func idsStartAboveTheKafkaServersOldCounter() throws {
        let fixture = try StoreFixture()
        _ = try fixture.open()
        try FileManager.default.createDirectory(atPath: fixture.path + "/__kafka", withIntermediateDirectories: true)
        try Data("5000\n".utf8).write(to: URL(fileURLWithPath: fixture.path + "/__kafka/producer-ids"))
        let store = try fixture.reopen()
        #expect(try store.registerProducer().producerId >= 5000)
    }

    @Test func aReadOnlyStoreMakesNoProducer() throws {
        let fixture = try StoreFixture()
        _ = try fixture.topic("orders")
        let reader = try Store.open(at: fixture.path, options: Store.Options(mode: .readOnly))
        defer { try? reader.close() }
        #expect((#expect(throws: StreamStoreError.self) { try reader.producer(for: "orders") })?.code == .readOnly)
    }

    @Test func sendWaitsForRoomWhenTheBufferIsFull() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(partitionCount: 3, flush: .never))
        let producer = try #require(fixture.store).producer(for: "orders", options: Producer.Options(maxBufferedRecords: 2))
        var deliveries: [Delivery] = []
        for index in 0..<200 { deliveries.append(try await producer.send(Record(key: "k\(index % 5)", value: "v\(index)"))) }
        try await producer.close()
        var total = 0
        for partition in 0..<3 { total += try fixture.readAll(topic, partition: partition).count }
        #expect(total == 200)
        await expectStoreError(.storeClosed) { _ = try await producer.send(Record(value: "after close")) }
    }

    @Test func invalidOptionsAreInvalidConfig() throws {
        for options in [Producer.Options(maxBatchRecords: 0), Producer.Options(maxBatchBytes: 0), Producer.Options(lingerMilliseconds: -1),
                        Producer.Options(maxBufferedRecords: 0), Producer.Options(name: "")] {
            #expect((#expect(throws: StreamStoreError.self) { try options.validate() })?.code == .invalidConfig)
        }
    }

    @Test func topicAppendOfManyPartitionsReturnsReceiptsInPartitionOrder() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(partitionCount: 4))
        let receipts = try await topic.append((0..<100).map { Record(key: "customer-\($0)", value: "v\($0)") })
        #expect(receipts.map(\.partition) == receipts.map(\.partition).sorted())
        #expect(receipts.reduce(0) { $0 + $1.recordCount } == 100)
        var total = 0
        for partition in 0..<4 { total += try fixture.readAll(topic, partition: partition).count }
        #expect(total == 100)
    }
}
