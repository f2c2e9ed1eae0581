import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Consumer groups: durable, atomic commits; lag in records and time; resets; the offset log's
/// torn tails and compaction.
@Suite(.timeLimit(.minutes(5))) struct ConsumerGroupTests {
    @Test func commitsSurviveCleanReopenAndCrash() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .everyAppend))
        try await fixture.append(topic, count: 50, partition: 0)
        try await fixture.append(topic, count: 30, partition: 1)
        let group = try fixture.store!.group("billing")
        try await group.commit(topic: "events", offsets: [0: 20, 1: 30])
        try await group.commit(topic: "events", offsets: [0: 41])
        #expect(try group.committedOffsets(topic: "events") == [0: 41, 1: 30])

        try fixture.reopen()
        #expect(try fixture.store!.group("billing").committedOffsets(topic: "events") == [0: 41, 1: 30])
        try await fixture.store!.group("billing").commit(topic: "events", offsets: [1: 7])
        try fixture.crashAndReopen()
        #expect(try fixture.store!.group("billing").committedOffsets(topic: "events") == [0: 41, 1: 7])
        #expect(try fixture.store!.groupNames() == ["billing"])
        #expect(try fixture.store!.group("billing").topics() == ["events"])
    }

    @Test func badCommitsAndNamesAreTypedErrors() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 10)
        let store = fixture.store!
        let group = try store.group("g")
        await expectStoreError(.offsetOutOfRange) { try await group.commit(topic: "events", offsets: [0: 11]) }
        await expectStoreError(.partitionOutOfRange) { try await group.commit(topic: "events", offsets: [3: 1]) }
        await expectStoreError(.unknownTopic) { try await group.commit(topic: "nope", offsets: [0: 1]) }
        expectStoreError(.invalidGroupName) { _ = try store.group("../escape") }
        do {
            _ = try store.group("never-committed", createIfMissing: false)
            Issue.record("expected unknownGroup")
        } catch {
            #expect(error.code == .unknownGroup)
        }
        #expect(try store.groupNames().isEmpty)
    }

    @Test func lagCountsRecordsAndTheAgeOfTheOldestUnprocessedOne() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        try await fixture.append(topic, count: 40, partition: 0)
        fixture.clock.advance(milliseconds: 1_000)
        try await fixture.append(topic, count: 60, partition: 0, first: 40)
        fixture.clock.advance(milliseconds: 4_000)
        let group = try fixture.store!.group("g")

        var lag = try group.lag(topic: "events")
        #expect(lag.map(\.lagRecords) == [100, 0])
        #expect(lag[0].committedOffset == nil && lag[0].lagMilliseconds == 5_000)
        #expect(lag[1].lagMilliseconds == 0)

        try await group.commit(topic: "events", offsets: [0: 40])
        lag = try group.lag(topic: "events")
        #expect(lag[0].lagRecords == 60 && lag[0].lagMilliseconds == 4_000 && lag[0].committedOffset == 40)

        try await fixture.append(topic, count: 5, partition: 1)
        try await group.commit(topic: "events", offsets: [0: 100])
        lag = try group.lag(topic: "events")
        #expect(lag.map(\.lagRecords) == [0, 5])
        #expect(lag[0].lagMilliseconds == 0)
        #expect(try group.lag().count == 2)
    }

    @Test func resetMovesOffsetsButNotWhileMembersConsume() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        try await fixture.append(topic, count: 10, partition: 0)
        fixture.clock.advance(milliseconds: 10_000)
        let middle = fixture.clock.nowMilliseconds()
        try await fixture.append(topic, count: 10, partition: 0, first: 10)
        let store = fixture.store!
        let group = try store.group("g")
        try await group.reset(topic: "events", to: .end)
        #expect(try group.committedOffsets(topic: "events") == [0: 20, 1: 0])
        try await group.reset(topic: "events", to: .beginning, partitions: [0])
        #expect(try group.committedOffsets(topic: "events") == [0: 0, 1: 0])
        try await group.reset(topic: "events", to: .timestamp(middle))
        #expect(try group.committedOffsets(topic: "events")[0] == 10)
        try await group.reset(topic: "events", to: .offset(500))
        #expect(try group.committedOffsets(topic: "events")[0] == 20, "an offset past the end is clamped to the end")

        let consumer = try store.consumer(group: "g", topic: "events")
        do {
            try await group.reset(topic: "events", to: .beginning)
            Issue.record("expected groupActive")
        } catch {
            #expect(error.code == .groupActive)
        }
        consumer.close()
        try await group.reset(topic: "events", to: .beginning)
    }

    @Test func aTornCommitAtTheTailLeavesThePreviousOne() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 10)
        try await fixture.store!.group("g").commit(topic: "events", offsets: [0: 4])
        try await fixture.store!.group("g").commit(topic: "events", offsets: [0: 9])
        try fixture.reopen()
        try fixture.store!.close()
        fixture.store = nil
        let path = fixture.path + "/__groups/g.offsets"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let whole = bytes.count
        // Damage the last frame: a flipped byte (CRC fails), then a cut (length runs past the end).
        bytes[whole - 3] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try fixture.open()
        #expect(try fixture.store!.group("g").committedOffsets(topic: "events") == [0: 4])
        try await fixture.store!.group("g").commit(topic: "events", offsets: [0: 7])
        try fixture.reopen()
        #expect(try fixture.store!.group("g").committedOffsets(topic: "events") == [0: 7])
        try fixture.store!.close()
        fixture.store = nil
        let valid = try Data(contentsOf: URL(fileURLWithPath: path))
        try Data(valid.prefix(valid.count - 5)).write(to: URL(fileURLWithPath: path))
        try fixture.open()
        #expect(try fixture.store!.group("g").committedOffsets(topic: "events") == [0: 4])
    }

    @Test func theOffsetLogIsCompactedAndKeepsEveryValue() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 4, flush: .never))
        for partition in 0..<4 { try await fixture.append(topic, count: 100, partition: partition) }
        let group = try fixture.store!.group("g")
        // Each frame is about 40 bytes: 40,000 commits write well past the 1 MiB threshold.
        for round in 0..<40_000 {
            try await group.commit(topic: "events", offsets: [round % 4: Int64(round % 101)])
        }
        let size = try FileManager.default.attributesOfItem(atPath: fixture.path + "/__groups/g.offsets")[.size] as! Int
        #expect(size < 1 << 20)
        let expected: [Int: Int64] = [0: Int64(39_996 % 101), 1: Int64(39_997 % 101), 2: Int64(39_998 % 101), 3: Int64(39_999 % 101)]
        #expect(try group.committedOffsets(topic: "events") == expected)
        try fixture.crashAndReopen()
        #expect(try fixture.store!.group("g").committedOffsets(topic: "events") == expected)
    }

    @Test func aConsumerStartsAtTheCommittedOffsetAndRedeliversWhatItDidNotCommit() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .everyAppend))
        try await fixture.append(topic, count: 20)
        let store = fixture.store!
        var consumer = try store.consumer(group: "g", topic: "events")
        var handled: [Int64] = []
        for try await record in consumer.records {
            handled.append(record.offset)
            if record.offset < 10 { try await consumer.commit(record) }
            if record.offset == 14 { break }
        }
        #expect(handled == Array(0...14))
        consumer.close()
        consumer = try store.consumer(group: "g", topic: "events")
        var again: [Int64] = []
        for try await record in consumer.records {
            again.append(record.offset)
            try await consumer.commit(record)
            if record.offset == 19 { break }
        }
        #expect(again == Array(10...19), "records handled but not committed come again")
        consumer.close()
        #expect(try store.group("g").lag(topic: "events")[0].lagRecords == 0)
    }

    @Test func aNewGroupWithLatestStartsAtTheEnd() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 5)
        let consumer = try fixture.store!.consumer(group: "late", topic: "events", options: ConsumerOptions(resetPolicy: .latest))
        let first = Task { () -> Int64? in
            for try await record in consumer.records { return record.offset }
            return nil
        }
        // The consumer has placed itself at the end, and waits there, before the append.
        try await waitUntil { topic.partitions[0].tailingReaderCount == 1 }
        try await fixture.append(topic, count: 1, first: 5)
        #expect(try await first.value == 5)
        consumer.close()
    }
}
