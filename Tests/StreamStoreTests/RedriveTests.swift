import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// The dead-letter topic on demand, reading dead letters back, and redriving them into their
/// origin topic once per group.
@Suite(.timeLimit(.minutes(5))) struct RedriveTests {
    /// `orders` with `partitions` partitions of `perPartition` orders each, processed by group
    /// `billing` with the records at `poison` ("partition-offset") failing every attempt.
    func deadLettered(
        _ fixture: StoreFixture, partitions: Int = 2, perPartition: Int = 4, poison: Set<String>, config: TopicConfig? = nil,
        error: (StoredRecord) -> String = { _ in "poison" }
    ) async throws -> Topic {
        let orders = try fixture.topic("orders", config: config ?? TopicConfig(partitionCount: partitions, flush: .never))
        for partition in 0..<partitions { try await fixture.appendOrders(orders, count: perPartition, partition: partition) }
        try await process(fixture, records: partitions * perPartition) { record in
            if poison.contains("\(record.partition)-\(record.offset)") { throw HandlerFailure(error(record)) }
        }
        return orders
    }

    /// Runs group `billing` over `records` records of `orders` with `handler`, one attempt each.
    func process(_ fixture: StoreFixture, records: Int, handler: (StoredRecord) async throws -> Void) async throws {
        let consumer = try fixture.store!.consumer(group: "billing", topic: "orders")
        defer { consumer.close() }
        _ = try await consumer.process(retry: exactRetry(maxAttempts: 1), maxRecords: records, handler: handler)
    }

    @Test func theDeadLetterTopicIsMadeOnDemandWithOnePartitionAndTheOriginsRetention() throws {
        let fixture = try StoreFixture()
        let config = TopicConfig(partitionCount: 4, flush: .never, compression: .zstd(level: 1), retentionMilliseconds: 86_400_000, retentionBytes: 1 << 30)
        _ = try fixture.topic("orders", config: config)
        let store = fixture.store!
        let dlq = try store.deadLetterTopic(for: "orders")
        #expect(dlq.name == "orders.dlq" && dlq.partitionCount == 1)
        #expect(dlq.config.flush == .everyAppend && dlq.config.compression == .zstd(level: 1))
        #expect(dlq.config.retentionMilliseconds == 86_400_000 && dlq.config.retentionBytes == 1 << 30)
        #expect(try store.deadLetterTopic(for: "orders") === dlq, "made once, then the same topic")
        try fixture.reopen()
        #expect(try fixture.store!.deadLetterTopic(for: "orders").config == dlq.config)

        let error = #expect(throws: StreamStoreError.self) { try fixture.store!.deadLetterTopic(for: "nope") }
        #expect(error?.code == .unknownTopic)
        #expect(!fixture.store!.topicNames.contains("nope.dlq"), "no dead-letter topic for a topic that does not exist")

        _ = try fixture.topic("payments")
        let handMade = try fixture.topic("payments.dlq", config: TopicConfig(partitionCount: 3))
        #expect(try fixture.store!.deadLetterTopic(for: "payments") === handMade, "one made by hand is used as it is")
    }

    @Test func aDryRunChangesNothingAndARedriveAppendsEachDeadLetterToItsOriginPartitionOnce() async throws {
        let fixture = try StoreFixture()
        let orders = try await deadLettered(fixture, poison: ["0-1", "1-3"])
        let store = fixture.store!
        let originals = [try fixture.readAll(orders, partition: 0)[1], try fixture.readAll(orders, partition: 1)[3]]

        let preview = try await store.redriveDeadLetters(topic: "orders", dryRun: true)
        #expect(preview.dryRun && preview.redriven.map(\.outcome) == [.wouldAppend, .wouldAppend])
        #expect(preview.redriven.map(\.partition) == [0, 1] && preview.redriven.map(\.deadLetter.originOffset) == [1, 3])
        #expect(preview.partitions == [RedriveReport.PartitionProgress(partition: 0, fromOffset: 0, nextOffset: 2)])
        #expect(try [0, 1].map { try orders.logEndOffset(partition: $0) } == [4, 4], "a dry run appends nothing")
        #expect(try !store.groupNames().contains(DeadLetter.defaultRedriveGroup), "and commits nothing")

        fixture.clock.advance(milliseconds: 5_000)
        let report = try await store.redriveDeadLetters(topic: "orders")
        #expect(!report.dryRun && report.group == "dlq-redrive" && report.deadLetterTopic == "orders.dlq")
        #expect(report.redriven.map(\.outcome) == [.appended(offset: 4), .appended(offset: 4)] && report.redriven.map(\.partition) == [0, 1])
        #expect(report.skipped.isEmpty && report.filteredOutRecords == 0)
        for (partition, original) in originals.enumerated() {
            let redriven = try #require(try orders.read(partition: partition, from: 4).first)
            #expect(redriven.key == original.key && redriven.value == original.value)
            #expect(redriven.headers == original.headers + [RecordHeader(key: "redrive-count", value: "1")], "the dlq-* headers are gone")
            #expect(redriven.redriveCount == 1 && redriven.timestamp == fixture.clock.nowMilliseconds(), "stamped at the redrive")
        }
        #expect(try store.group("dlq-redrive").committedOffsets(topic: "orders.dlq") == [0: 2])

        let again = try await store.redriveDeadLetters(topic: "orders")
        #expect(again.redriven.isEmpty && again.partitions == [RedriveReport.PartitionProgress(partition: 0, fromOffset: 2, nextOffset: 2)])
        #expect(try [0, 1].map { try orders.logEndOffset(partition: $0) } == [5, 5], "a second run redrives nothing again")

        // The bug is fixed: the group processes the redriven records like any other.
        var handled: [String] = []
        try await process(fixture, records: 2) { handled.append($0.valueString ?? "") }
        #expect(handled.sorted() == ["order-1", "order-3"])
        #expect(try fixture.deadLetterRecords(of: "orders").count == 2, "the dead-letter topic keeps its history")
    }

    @Test func aLimitAndAFilterSelectWhatARunRedrives() async throws {
        let fixture = try StoreFixture()
        let orders = try await deadLettered(fixture, partitions: 1, perPartition: 6, poison: ["0-0", "0-1", "0-2", "0-3", "0-4"]) { record in
            record.offset % 2 == 0 ? "timeout talking to the bank" : "card declined"
        }
        let store = fixture.store!
        let first = try await store.redriveDeadLetters(topic: "orders", limit: 2)
        #expect(first.redriven.map(\.deadLetter.originOffset) == [0, 1])
        #expect(first.partitions.first?.nextOffset == 2, "the run stops right after its last redrive")

        let timeouts = try await store.redriveDeadLetters(topic: "orders") { $0.error.contains("timeout") }
        #expect(timeouts.redriven.map(\.deadLetter.originOffset) == [2, 4] && timeouts.filteredOutRecords == 1)
        #expect(timeouts.partitions.first?.nextOffset == 5)
        #expect(try await store.redriveDeadLetters(topic: "orders").redriven.isEmpty, "what the filter passed over stays passed over for the group")

        let declines = try await store.redriveDeadLetters(topic: "orders", group: "declines") { $0.error == "card declined" }
        #expect(declines.redriven.map(\.deadLetter.originOffset) == [1, 3] && declines.filteredOutRecords == 3, "another group reads from the start")
        #expect(try orders.logEndOffset(partition: 0) == 6 + 4 + 2)
        let zero = try await store.redriveDeadLetters(topic: "orders", group: "zero", limit: 0)
        #expect(zero.redriven.isEmpty && zero.partitions.isEmpty)
        let error = await #expect(throws: StreamStoreError.self) { try await store.redriveDeadLetters(topic: "orders", limit: -1) }
        #expect(error?.code == .invalidArgument)
    }

    @Test func recordsThatAreNotDeadLettersOfTheTopicAreSkippedAndReported() async throws {
        let fixture = try StoreFixture()
        let orders = try await deadLettered(fixture, partitions: 1, perPartition: 2, poison: ["0-1"])
        let store = fixture.store!
        let dlq = try store.deadLetterTopic(for: "orders")
        let valid = try #require(fixture.deadLetterRecords(of: "orders").first)
        func with(_ name: String, _ value: String?) -> Record {
            var record = Record(key: valid.key.map(Array.init), value: valid.value.map(Array.init), headers: valid.headers)
            record.headers.removeAll { $0.key == name }
            if let value { record.headers.append(RecordHeader(key: name, value: value)) }
            return record
        }
        _ = try await dlq.append(
            [
                Record(value: "no headers at all"), with("dlq-origin-offset", "seven"), with("dlq-attempts", nil), with("dlq-origin-topic", "payments"),
                with("redrive-count", "-1"),
            ], partition: 0)

        let listed = try store.deadLetters(of: "orders")
        #expect(listed.count == 6)
        let problems = listed.compactMap { result -> String? in
            if case .failure(let error) = result { return error.message }
            return nil
        }
        #expect(problems.count == 4, "the other topic's dead letter is a valid dead letter: \(problems)")
        #expect(problems[0].contains("no dlq-origin-topic header") && problems[1].contains("dlq-origin-offset header is \"seven\""))
        #expect(problems[2].contains("no dlq-attempts header") && problems[3].contains("redrive-count"))
        #expect(listed.allSatisfy { result in
            if case .failure(let error) = result { return error.code == .invalidDeadLetter && error.topic == "orders.dlq" }
            return true
        })
        #expect(try store.deadLetters(of: "orders", limit: 2).count == 2)

        let report = try await store.redriveDeadLetters(topic: "orders")
        #expect(report.redriven.map(\.deadLetter.record.offset) == [0])
        #expect(report.skipped.map(\.offset) == [1, 2, 3, 4, 5] && report.skipped.allSatisfy { $0.error.code == .invalidDeadLetter })
        #expect(report.skipped[3].error.message.contains("dead letter of topic payments, not of orders"))
        #expect(try store.group("dlq-redrive").committedOffsets(topic: "orders.dlq") == [0: 6], "skipped records are passed over for good")
        #expect(try orders.logEndOffset(partition: 0) == 3)
        #expect(try await store.redriveDeadLetters(topic: "orders").skipped.isEmpty)
    }

    @Test func aRedriveIntoADeduplicatedTopicIsWrittenOnceEvenAfterACrashBeforeItsCommit() async throws {
        let fixture = try StoreFixture()
        let config = TopicConfig(flush: .everyAppend, dedupeWindowMilliseconds: 3_600_000)
        _ = try await deadLettered(fixture, partitions: 1, perPartition: 3, poison: ["0-1"], config: config)
        fixture.clock.advance(milliseconds: 60_000)

        let first = try await fixture.store!.redriveDeadLetters(topic: "orders")
        #expect(first.redriven.map(\.outcome) == [.appended(offset: 3)], "written although the window holds the original's message-id")

        // A crash after the append and before the commit: the next run reads the dead letter again.
        try await fixture.store!.group("dlq-redrive").reset(topic: "orders.dlq", to: .beginning)
        let repeated = try await fixture.store!.redriveDeadLetters(topic: "orders")
        #expect(repeated.redriven.map(\.outcome) == [.duplicate(partition: 0, offset: 3)])
        #expect(try fixture.store!.topic("orders").logEndOffset(partition: 0) == 4)

        // The window is rebuilt from the log on open, redrive counts included.
        let reopened = try fixture.crashAndReopen()
        try await reopened.group("dlq-redrive").reset(topic: "orders.dlq", to: .beginning)
        #expect(try await reopened.redriveDeadLetters(topic: "orders").redriven.map(\.outcome) == [.duplicate(partition: 0, offset: 3)])

        // The redriven record fails again: its second redrive is a new delivery again.
        try await process(fixture, records: 1) { _ in throw HandlerFailure("still failing") }
        let letters = try fixture.deadLetterRecords(of: "orders").map { try DeadLetter($0) }
        #expect(letters.map(\.redriveCount) == [0, 1] && letters.map(\.originOffset) == [1, 3])
        let second = try await reopened.redriveDeadLetters(topic: "orders")
        #expect(second.redriven.map(\.outcome) == [.appended(offset: 4)])
        let redriven = try #require(try reopened.topic("orders").read(partition: 0, from: 4).first)
        #expect(redriven.redriveCount == 2 && redriven.messageID == "m-0-1")
        // A producer retry of the original message is still a duplicate.
        let retry = try await reopened.topic("orders").append(
            [Record(key: "customer-1", value: "order-1", headers: [RecordHeader(.messageID, "m-0-1")])], partition: 0)
        #expect(retry.isDuplicate && retry.duplicates.first?.originalOffset == 1)
    }

    @Test func aRedriveThatFailsMidwaySaysWhereTheDeadLettersItRedroveLanded() async throws {
        let fixture = try StoreFixture()
        _ = try await deadLettered(fixture, partitions: 1, perPartition: 4, poison: ["0-1", "0-2", "0-3"])
        try fixture.store?.close()
        let fileSystem = FaultyFileSystem()
        let store = try fixture.open(through: fileSystem)
        // The first redrive's append goes through; every later write to the origin's log fails.
        fileSystem.fail(.write, errno: ENOSPC, pathContaining: "orders/0/", after: 1, times: .always)
        let error = await #expect(throws: StreamStoreError.self) { try await store.redriveDeadLetters(topic: "orders") }
        fileSystem.clearFaults()
        #expect(error?.code == .io(errno: ENOSPC), "\(String(describing: error))")
        #expect(error?.writtenRecords == [RecordOffset(partition: 0, offset: 4)], "\(String(describing: error))")
        #expect(error?.message.contains("1 dead letter(s) were redriven into orders") == true, "\(String(describing: error))")
        let landed = try #require(try store.topic("orders").read(partition: 0, from: 4).first)
        #expect(landed.redriveCount == 1 && landed.value.map { Array($0) } == Array("order-1".utf8))
        #expect(try store.topic("orders").logEndOffset(partition: 0) == 5, "nothing after the failure was written")
        // The next run continues after what the failed one redrove.
        let next = try await store.redriveDeadLetters(topic: "orders")
        #expect(next.redriven.map(\.outcome) == [.appended(offset: 5), .appended(offset: 6)])
    }

    @Test func aRedriveNeedsTheGroupToItselfAndAnExistingTopic() async throws {
        let fixture = try StoreFixture()
        _ = try await deadLettered(fixture, partitions: 1, perPartition: 2, poison: ["0-0"])
        let store = fixture.store!
        let reader = try store.consumer(group: "dlq-redrive", topic: "orders.dlq")
        let busy = await #expect(throws: StreamStoreError.self) { try await store.redriveDeadLetters(topic: "orders") }
        #expect(busy?.code == .groupActive)
        #expect(try await store.redriveDeadLetters(topic: "orders", dryRun: true).redriven.count == 1, "a dry run reads without taking part")
        reader.close()
        #expect(try await store.redriveDeadLetters(topic: "orders").redriven.count == 1)

        let unknown = await #expect(throws: StreamStoreError.self) { try await store.redriveDeadLetters(topic: "nope") }
        #expect(unknown?.code == .unknownTopic)
        _ = try fixture.topic("quiet")
        let quiet = try await store.redriveDeadLetters(topic: "quiet")
        #expect(quiet.redriven.isEmpty && quiet.partitions.isEmpty && !store.topicNames.contains("quiet.dlq"))
        #expect(try store.deadLetters(of: "quiet").isEmpty)
    }
}
