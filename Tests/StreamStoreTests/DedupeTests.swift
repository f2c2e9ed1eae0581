import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Producer de-duplication by `message-id` within a topic's window (docs/FORMAT.md, "The de-duplication window").
@Suite(.timeLimit(.minutes(5))) struct DedupeTests {
    static let minute: Int64 = 60_000

    func dedupeConfig(partitions: Int = 1, windowMilliseconds: Int64 = 10 * minute, maxIDs: Int = 100_000, flush: FlushPolicy = .never) -> TopicConfig {
        TopicConfig(partitionCount: partitions, flush: flush, dedupeWindowMilliseconds: windowMilliseconds, dedupeMaxMessageIDs: maxIDs)
    }

    func message(_ id: String, _ value: String) -> Record {
        Record(value: value, headers: [RecordHeader(.messageID, id)])
    }

    @Test func aRetriedMessageInsideTheWindowIsNotAppendedAgainAndGetsTheOriginalOffset() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: dedupeConfig())
        let first = try await topic.append([message("m-1", "a"), message("m-2", "b")], partition: 0)
        #expect(first.recordCount == 2 && first.duplicates.isEmpty)
        fixture.clock.advance(milliseconds: 5 * Self.minute)
        let retry = try await topic.append([message("m-2", "b"), message("m-3", "c")], partition: 0)
        #expect(retry.recordCount == 1)
        #expect(retry.baseOffset == 2)
        #expect(retry.duplicates == [DuplicateRecord(index: 0, reason: .messageID("m-2"), originalPartition: 0, originalOffset: 1)])
        #expect(retry.offset(ofRecordAt: 0) == (0, 1))
        #expect(retry.offset(ofRecordAt: 1) == (0, 2))
        #expect(values(try fixture.readAll(topic)) == ["a", "b", "c"])
        try fixture.expectConsistent()
    }

    @Test func aBatchOfOnlyDuplicatesWritesNothing() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: dedupeConfig())
        _ = try await topic.append([message("m-1", "a")], partition: 0)
        let retry = try await topic.append([message("m-1", "a")], partition: 0, expectedNextOffset: 0)
        #expect(retry.isDuplicate && retry.recordCount == 0 && retry.baseOffset == 1)
        #expect(retry.offset(ofRecordAt: 0) == (0, 0))
        #expect(try topic.logEndOffset(partition: 0) == 1)
    }

    @Test func theSameIDTwiceInOneBatchIsWrittenOnce() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: dedupeConfig())
        let receipt = try await topic.append([message("x", "1"), Record(value: "plain"), message("x", "1 again")], partition: 0)
        #expect(receipt.recordCount == 2)
        #expect(receipt.duplicates == [DuplicateRecord(index: 2, reason: .messageID("x"), originalPartition: 0, originalOffset: 0)])
        #expect(values(try fixture.readAll(topic)) == ["1", "plain"])
    }

    @Test func aMessageOlderThanTheWindowIsAppendedAgain() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: dedupeConfig(windowMilliseconds: Self.minute))
        _ = try await topic.append([message("m-1", "a")], partition: 0)
        fixture.clock.advance(milliseconds: Self.minute + 1)
        let later = try await topic.append([message("m-1", "a")], partition: 0)
        #expect(later.recordCount == 1 && later.duplicates.isEmpty && later.baseOffset == 1)
    }

    @Test func recordsWithoutAMessageIDAreNeverDeduplicated() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: dedupeConfig())
        _ = try await topic.append([Record(value: "same")], partition: 0)
        let again = try await topic.append([Record(value: "same")], partition: 0)
        #expect(again.recordCount == 1 && again.duplicates.isEmpty)
    }

    @Test func duplicatesAreFoundAcrossPartitionsOfTheTopic() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: dedupeConfig(partitions: 3))
        _ = try await topic.append([message("m-1", "a")], partition: 2)
        let elsewhere = try await topic.append([message("m-1", "a")], partition: 0)
        #expect(elsewhere.isDuplicate)
        #expect(elsewhere.duplicates.first?.originalPartition == 2)
        #expect(try topic.logEndOffset(partition: 0) == 0)
    }

    @Test func topicsWithoutAWindowAppendEveryRecord() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append([message("m-1", "a")], partition: 0)
        let again = try await topic.append([message("m-1", "a")], partition: 0)
        #expect(again.recordCount == 1)
    }

    @Test func theWindowSurvivesACleanRestartAndACrash() async throws {
        let fixture = try StoreFixture()
        var topic = try fixture.topic(config: dedupeConfig(partitions: 2))
        _ = try await topic.append([message("m-1", "a"), message("m-2", "b")], partition: 0)
        _ = try await topic.append([message("m-3", "c")], partition: 1)
        topic = try fixture.reopen().topic("events")
        var retry = try await topic.append([message("m-3", "c"), message("m-1", "a")], partition: 0)
        #expect(retry.isDuplicate)
        #expect(retry.duplicates.map(\.originalOffset) == [0, 0] && retry.duplicates.map(\.originalPartition) == [1, 0])
        _ = try await topic.append([message("m-4", "d")], partition: 1)
        try await topic.flush()
        topic = try fixture.crashAndReopen().topic("events")
        retry = try await topic.append([message("m-4", "d"), message("m-2", "b")], partition: 0)
        #expect(retry.isDuplicate)
        #expect(retry.offset(ofRecordAt: 0) == (1, 1) && retry.offset(ofRecordAt: 1) == (0, 1))
    }

    @Test func aRestartForgetsIDsOlderThanTheWindow() async throws {
        let fixture = try StoreFixture()
        var topic = try fixture.topic(config: dedupeConfig(windowMilliseconds: Self.minute))
        _ = try await topic.append([message("old", "a")], partition: 0)
        fixture.clock.advance(milliseconds: 50_000)
        _ = try await topic.append([message("recent", "b")], partition: 0)
        fixture.clock.advance(milliseconds: 20_000)
        topic = try fixture.reopen().topic("events")
        #expect(topic.dedupe.withLock { $0.count } == 1)
        let receipt = try await topic.append([message("old", "a"), message("recent", "b")], partition: 0)
        #expect(receipt.recordCount == 1)
        #expect(receipt.duplicates.map(\.index) == [1])
    }

    @Test func atTheMemoryBoundTheOldestIDsAreForgottenFirst() async throws {
        let fixture = try StoreFixture()
        var topic = try fixture.topic(config: dedupeConfig(maxIDs: 3))
        for index in 0..<5 {
            _ = try await topic.append([message("m-\(index)", "\(index)")], partition: 0)
            fixture.clock.advance(milliseconds: 1)
        }
        #expect(topic.dedupe.withLock { $0.count } == 3)
        #expect(topic.dedupe.withLock { $0.evictedEarly } == 2)
        // m-0 and m-1 were forgotten early: appended again. m-2...m-4 are still known.
        let receipt = try await topic.append((0..<5).map { message("m-\($0)", "\($0)") }, partition: 0)
        #expect(receipt.duplicates.map(\.index) == [2, 3, 4])
        #expect(receipt.recordCount == 2)
        // The bound holds across a restart too: the newest ids are kept.
        topic = try fixture.reopen().topic("events")
        #expect(topic.dedupe.withLock { $0.count } == 3)
        let again = try await topic.append([message("m-1", "1")], partition: 0)
        #expect(again.isDuplicate)
    }

    @Test func concurrentAppendsOfOneIDWriteItOnce() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: dedupeConfig(partitions: 4, flush: .everyAppend))
        let receipts = try await withThrowingTaskGroup(of: AppendReceipt.self) { group in
            for index in 0..<16 {
                group.addTask { try await topic.append([self.message("contended", "v\(index)")], partition: index % 4) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(receipts.filter { $0.recordCount == 1 }.count == 1)
        #expect(receipts.filter(\.isDuplicate).count == 15)
        let written = try (0..<4).reduce(0) { $0 + Int(try topic.logEndOffset(partition: $1)) }
        #expect(written == 1)
        let original = receipts.first { $0.recordCount == 1 }!
        for duplicate in receipts.filter(\.isDuplicate) {
            #expect(duplicate.offset(ofRecordAt: 0) == (original.partition, original.baseOffset))
        }
    }

    @Test func anIDWhoseFsyncFailedIsForgottenSoTheRetryIsWritten() async throws {
        let fixture = try StoreFixture()
        let fileSystem = CountingFileSystem()
        let store = try fixture.open(through: fileSystem)
        let topic = try store.createTopic("events", config: dedupeConfig(partitions: 2, flush: .everyAppend))
        fileSystem.failNextDataSync(errno: EIO)
        await expectStoreError(.io(errno: EIO)) { _ = try await topic.append([message("m-1", "a")], partition: 0) }
        // Partition 0 is fenced until reopened; the retry to partition 1 must be written, since
        // the first attempt was never acknowledged.
        let retry = try await topic.append([message("m-1", "a")], partition: 1)
        #expect(retry.recordCount == 1 && retry.duplicates.isEmpty)
        try? store.close()
    }

    @Test func turningTheWindowOnLaterRebuildsItFromTheLog() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append([message("m-1", "a")], partition: 0)
        try fixture.store!.updateTopic("events") { $0.dedupeWindowMilliseconds = 10 * Self.minute }
        let retry = try await topic.append([message("m-1", "a")], partition: 0)
        #expect(retry.isDuplicate)
        try fixture.store!.updateTopic("events") { $0.dedupeWindowMilliseconds = nil }
        let now = try await topic.append([message("m-1", "a")], partition: 0)
        #expect(now.recordCount == 1)
        #expect(try fixture.reopen().topic("events").config.dedupeWindowMilliseconds == nil)
    }

    @Test func anOverlongMessageIDIsATypedError() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: dedupeConfig())
        let id = String(repeating: "x", count: Limits.maxMessageIDBytes + 1)
        await #expect {
            _ = try await topic.append([message(id, "a")], partition: 0)
        } throws: { ($0 as? StreamStoreError)?.code == .invalidMessageID }
        #expect(try topic.logEndOffset(partition: 0) == 0)
    }

    @Test func theWindowSettingsAreValidatedAndPersisted() throws {
        expectStoreError(.invalidConfig) { try dedupeConfig(windowMilliseconds: 0).validate() }
        expectStoreError(.invalidConfig) { try dedupeConfig(maxIDs: 0).validate() }
        let fixture = try StoreFixture()
        _ = try fixture.topic(config: dedupeConfig(windowMilliseconds: 123_000, maxIDs: 77))
        let reopened = try fixture.reopen().topic("events").config
        #expect(reopened.dedupeWindowMilliseconds == 123_000 && reopened.dedupeMaxMessageIDs == 77)
    }

    @Test func compressedTopicsDeduplicateToo() async throws {
        let fixture = try StoreFixture()
        var config = dedupeConfig()
        config.compression = .zstd(level: 3)
        var topic = try fixture.topic(config: config)
        _ = try await topic.append((0..<50).map { message("m-\($0)", String(repeating: "payload \($0) ", count: 8)) }, partition: 0)
        topic = try fixture.crashAndReopen().topic("events")
        let retry = try await topic.append((40..<60).map { message("m-\($0)", "again") }, partition: 0)
        #expect(retry.duplicates.count == 10 && retry.recordCount == 10)
        #expect(try fixture.readAll(topic).count == 60)
    }
}
