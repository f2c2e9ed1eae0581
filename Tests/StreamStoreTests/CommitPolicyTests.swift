import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Consumers that commit on their own (by count, by time, at the end of a read, before they
/// wait, when they close), commit several partitions at once, and consume to an end.
@Suite(.timeLimit(.minutes(2))) struct CommitPolicyTests {
    private func consumer(_ fixture: StoreFixture, policy: CommitPolicy, group: String = "billing") throws -> Consumer {
        try #require(fixture.store).consumer(group: group, topic: "events", options: ConsumerOptions(commitPolicy: policy))
    }

    @Test func aFiniteConsumptionEndsAtTheLogEndItFound() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 3, flush: .never))
        for partition in 0..<3 { try await fixture.append(topic, count: 10 + partition, partition: partition) }
        let billing = try consumer(fixture, policy: .manual)
        var seen = 0
        for try await record in billing.records(until: .end) {
            seen += 1
            if seen == 1 { try await fixture.append(topic, count: 5, partition: record.partition, first: 100) }
        }
        #expect(seen == 33, "what was there when each partition was taken, not what came after")
        #expect(try #require(fixture.store).group("billing").committedOffsets(topic: "events").isEmpty, "manual: nothing committed")
    }

    @Test func everyNRecordsCommitsWhatWasProcessedAndTheEndCommitsTheRest() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never))
        try await fixture.append(topic, count: 10)
        let billing = try consumer(fixture, policy: .automatic(everyRecords: 3, everyMilliseconds: nil))
        let group = try #require(fixture.store).group("billing")
        var index = 0
        for try await record in billing.records(until: .end) {
            #expect(record.offset == Int64(index))
            let committed = try group.committedOffsets(topic: "events")[0]
            #expect(committed == (index >= 3 ? Int64(index / 3 * 3) : nil), "at record \(index): only processed records, every 3")
            index += 1
        }
        #expect(try group.committedOffsets(topic: "events") == [0: 10])
    }

    @Test func everyIntervalCommitsByTheClock() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never))
        try await fixture.append(topic, count: 10)
        let billing = try consumer(fixture, policy: .automatic(everyRecords: nil, everyMilliseconds: 1_000))
        let group = try #require(fixture.store).group("billing")
        var seen: [Int64?] = []
        for try await _ in billing.records(until: .end) {
            seen.append(try group.committedOffsets(topic: "events")[0])
            fixture.clock.advance(milliseconds: 600)
        }
        // Processed at 600 ms steps from the first: a commit once 1,000 ms passed since the last.
        #expect(seen == [nil, nil, nil, 3, 3, 5, 5, 7, 7, 9])
        #expect(try group.committedOffsets(topic: "events") == [0: 10])
    }

    @Test func atTheEndOfEachReadCommitsOnceTheReadsRecordsAreDone() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never))
        try await fixture.append(topic, count: 4, batchSize: 2)
        try await fixture.append(topic, count: 4, batchSize: 2, first: 4)
        let store = try #require(fixture.store)
        // A read budget of one byte takes one batch per read.
        let billing = try store.consumer(
            group: "billing", topic: "events",
            options: ConsumerOptions(maxBytesPerRead: 1, commitPolicy: .automatic(everyRecords: nil, everyMilliseconds: nil, atEndOfRead: true)))
        let group = try store.group("billing")
        var seen: [Int64?] = []
        for try await _ in billing.records(until: .end) { seen.append(try group.committedOffsets(topic: "events")[0]) }
        #expect(seen == [nil, nil, 2, 2, 4, 4, 6, 6])
    }

    @Test func anAutomaticConsumerCommitsBeforeItWaitsAndWhenItCloses() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never))
        try await fixture.append(topic, count: 5)
        let billing = try consumer(fixture, policy: .automatic(everyRecords: 1_000, everyMilliseconds: 60_000))
        let group = try #require(fixture.store).group("billing")
        let delivered = Locked(0)
        let loop = Task {
            for try await _ in billing.records { delivered.withLock { $0 += 1 } }
        }
        try await waitUntil { (try? group.committedOffsets(topic: "events")[0]) == 5 }
        #expect(delivered.withLock { $0 } == 5)
        // One more record, handled but not followed by another: close commits it.
        try await fixture.append(topic, count: 1, first: 5)
        try await waitUntil { delivered.withLock { $0 } == 6 }
        billing.close()
        _ = try await loop.value
        #expect(try group.committedOffsets(topic: "events")[0] ?? 0 >= 5)
    }

    @Test func severalPartitionsCommitAsOneOrNotAtAll() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 4, flush: .never))
        for partition in 0..<4 { try await fixture.append(topic, count: 3, partition: partition) }
        let a = try consumer(fixture, policy: .manual, group: "g")
        let b = try consumer(fixture, policy: .manual, group: "g")
        var ai = a.records.makeAsyncIterator()
        var bi = b.records.makeAsyncIterator()
        _ = try await ai.next()
        _ = try await bi.next()
        #expect(a.assignedPartitions == [0, 2])
        try await a.commit(offsets: [0: 2, 2: 3])
        let group = try #require(fixture.store).group("g")
        #expect(try group.committedOffsets(topic: "events") == [0: 2, 2: 3])
        let refused = await #expect(throws: StreamStoreError.self) { try await a.commit(offsets: [0: 3, 1: 1]) }
        #expect(refused?.code == .partitionNotAssigned)
        #expect(refused?.partition == 1)
        #expect(try group.committedOffsets(topic: "events") == [0: 2, 2: 3], "nothing of a refused commit lands")
        a.close()
        b.close()
    }

    @Test func aPolicyBelowOneIsInvalid() throws {
        let fixture = try StoreFixture()
        _ = try fixture.topic()
        for policy in [CommitPolicy.automatic(everyRecords: 0), .automatic(everyMilliseconds: 0)] {
            #expect((#expect(throws: StreamStoreError.self) { try consumer(fixture, policy: policy) })?.code == .invalidConfig)
        }
    }
}
