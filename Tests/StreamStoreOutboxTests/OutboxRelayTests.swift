import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox
import StreamStoreTestSupport
import Testing

@Suite(.timeLimit(.minutes(5))) struct OutboxRelayTests {
    @Test func aCommittedEventIsPublishedWithItsIdsAndTheRowIsDeleted() async throws {
        let fixture = try OutboxFixture()
        try fixture.topic()
        var placed = StreamStore.Record(key: "ada", value: #"{"orderId":"o-1"}"#)
        placed.setHeader(.messageID, "m-1")
        placed.setHeader(.correlationID, "checkout-42")
        placed.setHeader(.causationID, "cmd-7")
        placed.setHeader(.eventType, "order-placed")
        placed.headers.append(RecordHeader(key: "binary", value: [0xFF, 0x00]))
        let ids = try await fixture.database.write { [placed] db in
            [try Outbox.enqueue(placed, topic: "orders", in: db), try Outbox.enqueue(topic: "orders", key: "bob", value: "second", in: db)]
        }
        #expect(ids[0] == "m-1")
        #expect(UUID(uuidString: ids[1]) != nil, "a record without a message-id gets a UUID")

        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        #expect(try await relay.publishPending() == 2)
        let records = try fixture.records()
        #expect(records.map(\.valueString) == [#"{"orderId":"o-1"}"#, "second"])
        #expect(records[0].messageID == "m-1")
        #expect(records[0].correlationID == "checkout-42")
        #expect(records[0].causationID == "cmd-7")
        #expect(records[0].headers.map(\.key) == ["message-id", "correlation-id", "causation-id", "event-type", "binary"])
        #expect(records[0].header("binary")?.value == [0xFF, 0x00])
        #expect(records[1].messageID == ids[1])
        #expect(try fixture.pendingRows() == 0)
        #expect(relay.statistics.publishedRows == 2)
        let status = try await OutboxStatus.read(from: fixture.database)
        #expect(status.pendingRows == 0 && status.publishedRows == 2 && status.relayErrors == 0)
    }

    @Test func aRolledBackTransactionLeavesNoEvent() async throws {
        let fixture = try OutboxFixture()
        try fixture.topic()
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try fixture.database.write { db in
                try db.execute(sql: "INSERT INTO orders (id, customer, cents) VALUES ('o-1', 'ada', 5)")
                try Outbox.enqueue(topic: "orders", key: "ada", value: "placed", in: db)
                throw Refused()
            }
        }
        try fixture.placeOrder("o-2")
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        try await relay.publishPending()
        #expect(try fixture.records().map(\.valueString) == [#"{"orderId":"o-2"}"#])
    }

    @Test func eventsOfOneKeyComeOutInCommitOrder() async throws {
        let fixture = try OutboxFixture()
        try fixture.topic(partitions: 3)
        var random = SystemRandomNumberGenerator()
        let customers = (0..<8).map { "customer-\($0)" }
        var expected: [String: [String]] = [:]
        var number = 0
        while number < 300 {
            // Transactions of one to five events, keys at random.
            let events = (0..<Int.random(in: 1...5, using: &random)).map { offset in
                (customers.randomElement(using: &random) ?? "customer-0", "o-\(number + offset)")
            }
            try await fixture.database.write { [events] db in
                for (customer, order) in events { try Outbox.enqueue(topic: "orders", key: customer, value: order, in: db) }
            }
            for (customer, order) in events { expected[customer, default: []].append(order) }
            number += events.count
        }
        // Small batches: a key's events span many passes.
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store, options: OutboxRelay.Options(batchRows: 7))
        #expect(try await relay.publishPending() == number)
        var seen: [String: [String]] = [:]
        for record in try fixture.records() {
            seen[record.keyString ?? "", default: []].append(record.valueString ?? "")
        }
        #expect(seen == expected)
    }

    @Test func aRowPublishedTwiceAppearsOnce() async throws {
        let fixture = try OutboxFixture()
        let topic = try fixture.topic()
        let id = try fixture.placeOrder("o-1")
        try fixture.placeOrder("o-2")
        // As if a relay appended the first row and crashed before deleting it.
        var copy = StreamStore.Record(key: "ada", value: #"{"orderId":"o-1"}"#)
        copy.setHeader(.messageID, id)
        _ = try await topic.append([copy], partition: 0)
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        try await relay.publishPending()
        #expect(try fixture.records().map(\.valueString) == [#"{"orderId":"o-1"}"#, #"{"orderId":"o-2"}"#])
        #expect(try fixture.pendingRows() == 0)
    }

    @Test func aCommitWakesTheRunningRelay() async throws {
        let fixture = try OutboxFixture()
        try fixture.topic()
        // A poll far longer than the test: only the commit can wake it.
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store, options: OutboxRelay.Options(pollMilliseconds: 600_000))
        let running = Task { await relay.run() }
        defer { running.cancel() }
        for number in 0..<5 {
            try fixture.placeOrder("o-\(number)")
            try await waitUntil { relay.statistics.publishedRows == number + 1 }
        }
        #expect(try fixture.records().count == 5)
        running.cancel()
        await running.value
    }

    @Test func rowsFromAnotherConnectionArePolled() async throws {
        let fixture = try OutboxFixture()
        try fixture.topic()
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store, options: OutboxRelay.Options(pollMilliseconds: 20))
        let running = Task { await relay.run() }
        defer { running.cancel() }
        // Another connection (another process, in life): its commits are not observed.
        let other = try DatabaseQueue(path: fixture.databasePath)
        _ = try await other.write { db in try Outbox.enqueue(topic: "orders", key: "ada", value: "from elsewhere", in: db) }
        try await waitUntil { relay.statistics.publishedRows == 1 }
        #expect(try fixture.records().map(\.valueString) == ["from elsewhere"])
    }

    @Test func rowsWrittenWithPlainSQLArePublished() async throws {
        let fixture = try OutboxFixture()
        try fixture.topic()
        // What a service in another language writes: no message id, text values, JSON headers.
        try await fixture.database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO streamstore_outbox (topic, key, value, correlation_id, headers)
                    VALUES ('orders', 'ada', '{"orderId":"o-9"}', 'flow-1', '[{"key":"event-type","value":"order-placed"},{"key":"raw","valueBase64":"AAE="},{"key":"none"}]')
                    """)
        }
        let stored = try await fixture.database.read { db in try String.fetchOne(db, sql: "SELECT message_id FROM streamstore_outbox") }
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        try await relay.publishPending()
        let record = try #require(try fixture.records().first)
        #expect(record.keyString == "ada" && record.valueString == #"{"orderId":"o-9"}"#)
        #expect(record.messageID != nil && record.messageID == stored)
        #expect(record.correlationID == "flow-1" && record.eventType == "order-placed")
        #expect(record.header("raw")?.value == [0, 1])
        #expect(record.headers.contains { $0.key == "none" && $0.value == nil })
    }

    @Test func aTopicWithoutDedupeWindowIsRefusedAndItsRowsWait() async throws {
        let fixture = try OutboxFixture()
        _ = try fixture.store.createTopic("plain", config: TopicConfig())
        try fixture.topic()
        try fixture.placeOrder("o-1", topic: "plain")
        try fixture.placeOrder("o-2", topic: "orders")
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        await #expect { try await relay.publishPending() } throws: { ($0 as? OutboxError)?.code == .dedupeWindowMissing }
        #expect(try fixture.records("orders").count == 1, "the other topic's rows went on")
        #expect(try fixture.records("plain").isEmpty)
        let status = try await OutboxStatus.read(from: fixture.database)
        #expect(status.pendingRows == 1 && status.topics.map(\.topic) == ["plain"])
        #expect(status.relayErrors == 1 && status.lastError?.contains("dedupeWindowMissing") == true)
        #expect(relay.statistics.errors == 1)
    }

    @Test func theRunningRelayBacksOffAndRecoversOnceTheTopicIsFixed() async throws {
        let fixture = try OutboxFixture()
        _ = try fixture.store.createTopic("plain", config: TopicConfig())
        try fixture.placeOrder("o-1", topic: "plain")
        let failures = Locked(0)
        let options = OutboxRelay.Options(pollMilliseconds: 20, initialBackoffMilliseconds: 1, maxBackoffMilliseconds: 20, onError: { _ in failures.withLock { $0 += 1 } })
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store, options: options)
        let running = Task { await relay.run() }
        defer { running.cancel() }
        try await waitUntil { failures.withLock { $0 } >= 3 }
        try fixture.store.updateTopic("plain") { $0.dedupeWindowMilliseconds = 60_000 }
        try await waitUntil { relay.statistics.publishedRows == 1 }
        #expect(try fixture.records("plain").count == 1)
    }

    @Test func aDamagedRowHoldsOnlyItsPartition() async throws {
        let fixture = try OutboxFixture()
        try fixture.topic(partitions: 2)
        let broken = try await fixture.database.write { db in
            try db.execute(sql: "INSERT INTO streamstore_outbox (topic, target_partition, value, headers) VALUES ('orders', 0, 'x', 'not json')")
            return db.lastInsertedRowID
        }
        try await fixture.database.write { db in
            try Outbox.enqueue(topic: "orders", value: "behind it", partition: 0, in: db)
            try Outbox.enqueue(topic: "orders", value: "elsewhere", partition: 1, in: db)
        }
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        await #expect { try await relay.publishPending() } throws: { ($0 as? OutboxError)?.rowID == broken }
        #expect(try fixture.records().map(\.valueString) == ["elsewhere"])
        try await fixture.database.write { db in try db.execute(sql: "DELETE FROM streamstore_outbox WHERE id = ?", arguments: [broken]) }
        try await relay.publishPending()
        #expect(try fixture.records().map(\.valueString) == ["behind it", "elsewhere"])
    }

    @Test func enqueueRefusesWhatTheStoreWouldRefuse() throws {
        let fixture = try OutboxFixture()
        #expect { try fixture.database.write { db in try Outbox.enqueue(topic: "no/slash", value: "x", in: db) } } throws: {
            ($0 as? StreamStoreError)?.code == .invalidTopicName
        }
        let huge = StreamStore.Record(value: [UInt8](repeating: 1, count: Limits.maxRecordBytes + 1))
        #expect { try fixture.database.write { db in try Outbox.enqueue(huge, topic: "orders", in: db) } } throws: {
            ($0 as? StreamStoreError)?.code == .recordTooLarge
        }
        #expect(try fixture.pendingRows() == 0)
        #expect(throws: OutboxError.self) { try OutboxRelay(database: fixture.database, store: fixture.store, options: OutboxRelay.Options(batchRows: 0)) }
    }

    @Test func aNewTopicIsCreatedWithADedupeWindowAndStatusShowsTheBacklog() async throws {
        let clock = ManualClock(start: 1_800_000_000_000)
        let fixture = try OutboxFixture()
        try await fixture.database.write { db in
            try db.execute(sql: "INSERT INTO streamstore_outbox (topic, value, created_at_ms) VALUES ('fresh', 'a', ?), ('fresh', 'b', ?), ('other', 'c', ?)",
                           arguments: [1_800_000_000_000 - 750, 1_800_000_000_000 - 10, 1_800_000_000_000 - 300])
        }
        let before = try await OutboxStatus.read(from: fixture.database, now: clock.nowMilliseconds())
        #expect(before.pendingRows == 3 && before.oldestPendingAgeMilliseconds == 750)
        #expect(before.topics.map { "\($0.topic):\($0.pendingRows)" } == ["fresh:2", "other:1"])
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store, clock: clock)
        try await relay.publishPending()
        #expect(try fixture.store.topic("fresh").config.dedupeWindowMilliseconds == 86_400_000)
        let statistics = relay.statistics
        #expect(statistics.publishedRows == 3 && statistics.commitToPublishP99Milliseconds == 750)
        let after = try await OutboxStatus.read(from: fixture.database, now: clock.nowMilliseconds())
        #expect(after.pendingRows == 0 && after.oldestPendingAgeMilliseconds == 0 && after.publishedRows == 3)
        #expect(after.lastPublishedAtMilliseconds == clock.nowMilliseconds())
    }

    @Test func aTopicThatIsNotFlushedOnEveryAppendIsFlushedBeforeRowsGo() async throws {
        let fixture = try OutboxFixture()
        try fixture.topic(flush: .never)
        try fixture.placeOrder("o-1")
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        try await relay.publishPending()
        #expect(try fixture.records().count == 1 && fixture.pendingRows() == 0)
    }
}
