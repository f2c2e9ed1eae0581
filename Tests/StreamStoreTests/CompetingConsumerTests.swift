import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Several members of one group share a topic's partitions: every partition is handled by one
/// member at a time, members joining and leaving move partitions, and every record is handled.
@Suite(.timeLimit(.minutes(5))) struct CompetingConsumerTests {
    /// Who is handling which partition right now; a second handler of a partition is a failure.
    final class Handling: @unchecked Sendable {
        private let lock = NSLock()
        private var busy: [Int: Int] = [:]
        private(set) var overlaps: [String] = []
        private(set) var handled: [Int: Set<Int64>] = [:]
        private(set) var byMember: [Int: Set<Int>] = [:]
        /// Signalled once the first 100 records were handled, and once all `expected` were.
        let hundredHandled = TestEvent()
        let allHandled = TestEvent()
        private let expected: Int

        init(expected: Int) { self.expected = expected }

        func begin(member: Int, partition: Int) {
            lock.withLock {
                if let other = busy[partition] { overlaps.append("partition \(partition): member \(member) while \(other)") }
                busy[partition] = member
            }
        }

        func end(member: Int, record: StoredRecord) {
            let total: Int = lock.withLock {
                busy[record.partition] = nil
                handled[record.partition, default: []].insert(record.offset)
                byMember[member, default: []].insert(record.partition)
                return handled.values.reduce(0) { $0 + $1.count }
            }
            if total >= 100 { hundredHandled.signal() }
            if total >= expected { allHandled.signal() }
        }

        var total: Int { lock.withLock { handled.values.reduce(0) { $0 + $1.count } } }
    }

    @Test func membersShareThePartitionsWithoutOverlapAndCoverEveryRecord() async throws {
        let fixture = try StoreFixture()
        let partitions = 6, perPartition = 400
        let topic = try fixture.topic(config: TopicConfig(partitionCount: partitions, flush: .never))
        for partition in 0..<partitions { try await fixture.append(topic, count: perPartition, batchSize: 20, partition: partition) }
        let store = fixture.store!
        let handling = Handling(expected: partitions * perPartition)

        func member(_ id: Int, stopAfter: Int?) -> Task<Void, Error> {
            let consumer = try! store.consumer(group: "workers", topic: "events", options: ConsumerOptions(maxBytesPerRead: 512))
            return Task {
                defer { consumer.close() }
                var count = 0
                for try await record in consumer.records {
                    handling.begin(member: id, partition: record.partition)
                    // Handling takes a moment, so reassignments happen mid-stream (simulated
                    // work, not a wait for another task).
                    if record.offset % 50 == 0 { try await Task.sleep(for: .milliseconds(1)) }
                    handling.end(member: id, record: record)
                    try await consumer.commit(record)
                    count += 1
                    if let stopAfter, count >= stopAfter { return }
                    if handling.total >= partitions * perPartition { return }
                }
            }
        }

        let first = member(1, stopAfter: nil)
        let second = member(2, stopAfter: nil)
        await handling.hundredHandled.wait()
        let leaver = member(3, stopAfter: 150)  // joins once work is under way, leaves after 150 records
        try await leaver.value
        let third = member(4, stopAfter: nil)
        await handling.allHandled.wait()
        for task in [first, second, third] { task.cancel() }
        for task in [first, second, third] { _ = await task.result }

        #expect(handling.overlaps.isEmpty, "\(handling.overlaps.prefix(5))")
        for partition in 0..<partitions {
            #expect(handling.handled[partition] == Set(0..<Int64(perPartition)), "partition \(partition) fully handled")
        }
        #expect(handling.byMember.count >= 3, "the work was shared: \(handling.byMember)")
        #expect(try store.group("workers").lag(topic: "events").allSatisfy { $0.lagRecords == 0 })
    }

    @Test func assignmentsAreDealtEvenlyAndMoveWhenMembersLeave() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 4, flush: .never))
        for partition in 0..<4 { try await fixture.append(topic, count: 1, partition: partition) }
        let store = fixture.store!
        let a = try store.consumer(group: "g", topic: "events")
        let b = try store.consumer(group: "g", topic: "events")
        // Partitions are taken when a member next asks for records.
        var ai = a.records.makeAsyncIterator()
        var bi = b.records.makeAsyncIterator()
        _ = try await ai.next()
        _ = try await bi.next()
        #expect(a.assignedPartitions == [0, 2])
        #expect(b.assignedPartitions == [1, 3])
        // A commit for a partition that is not yours is refused.
        await expectStoreError(.partitionNotAssigned) { try await a.commit(partition: 1, nextOffset: 1) }
        b.close()
        _ = try await ai.next()
        #expect(a.assignedPartitions == [0, 1, 2, 3])
        a.close()
        #expect(try await ai.next() == nil, "a closed consumer's records end")
    }

    /// Closing a consumer from another task ends a `records` loop that is waiting for records.
    @Test func closingAConsumerEndsAWaitingLoop() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let consumer = try fixture.store!.consumer(group: "g", topic: "events")
        let loop = Task { () -> Int in
            var count = 0
            for try await _ in consumer.records { count += 1 }
            return count
        }
        try await waitUntil { topic.partitions[0].tailingReaderCount == 1 }
        consumer.close()
        #expect(try await loop.value == 0)
    }
}
