import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox
import StreamStoreTestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct InboxTests {
    /// A billing consumer's table, and records as a consumer receives them.
    func billingFixture() throws -> OutboxFixture {
        let fixture = try OutboxFixture()
        try fixture.database.write { db in try db.execute(sql: "CREATE TABLE invoices (order_id TEXT NOT NULL, cents INTEGER NOT NULL)") }
        return fixture
    }

    func record(_ messageID: String?, offset: Int64 = 0) -> StoredRecord {
        let headers = messageID.map { [RecordHeader(key: "message-id", value: $0)] } ?? []
        return StoredRecord(offset: offset, timestamp: 0, key: nil, value: ArraySlice("o-1".utf8), headers: headers)
    }

    func invoices(_ fixture: OutboxFixture) throws -> Int {
        try fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM invoices") ?? 0 }
    }

    @Test func aMessageIsHandledOnceAndItsRedeliveryIsSkippedAndReported() async throws {
        let fixture = try billingFixture()
        let clock = ManualClock(start: 1_800_000_000_000)
        let inbox = try Inbox(consumer: "billing", clock: clock)
        let first = try await inbox.handle(record("m-1"), in: fixture.database) { db in
            try db.execute(sql: "INSERT INTO invoices VALUES ('o-1', 1250)")
            return "invoiced"
        }
        guard case .handled(let value) = first else { Issue.record("not handled: \(first)"); return }
        #expect(value == "invoiced")
        clock.advance(milliseconds: 5)
        let again = try await inbox.handle(record("m-1", offset: 7), in: fixture.database) { db in
            try db.execute(sql: "INSERT INTO invoices VALUES ('o-1', 1250)")
            return "invoiced"
        }
        guard case .duplicate(let handledAt) = again else { Issue.record("not skipped: \(again)"); return }
        #expect(handledAt == 1_800_000_000_000)
        #expect(try invoices(fixture) == 1)
        #expect(inbox.statistics.handled == 1 && inbox.statistics.duplicates == 1 && inbox.statistics.expired == 0)
    }

    @Test func aHandlerThatThrowsCommitsNeitherItsChangesNorTheID() async throws {
        let fixture = try billingFixture()
        let inbox = try Inbox(consumer: "billing")
        struct PaymentDeclined: Error {}
        await #expect(throws: PaymentDeclined.self) {
            _ = try await inbox.handle(record("m-1"), in: fixture.database) { db in
                try db.execute(sql: "INSERT INTO invoices VALUES ('o-1', 1250)")
                throw PaymentDeclined()
            }
        }
        #expect(try invoices(fixture) == 0)
        let retry = try await inbox.handle(record("m-1"), in: fixture.database) { db in try db.execute(sql: "INSERT INTO invoices VALUES ('o-1', 1250)") }
        #expect(!retry.isDuplicate)
        #expect(try invoices(fixture) == 1)
    }

    @Test func consumersKeepTheirIDsApart() async throws {
        let fixture = try billingFixture()
        let billing = try Inbox(consumer: "billing")
        let shipping = try Inbox(consumer: "shipping")
        #expect(try await !billing.handle(record("m-1"), in: fixture.database) { _ in }.isDuplicate)
        #expect(try await !shipping.handle(record("m-1"), in: fixture.database) { _ in }.isDuplicate)
        #expect(try await billing.handle(record("m-1"), in: fixture.database) { _ in }.isDuplicate)
    }

    @Test func idsOlderThanTheWindowExpire() async throws {
        let fixture = try billingFixture()
        let clock = ManualClock(start: 1_800_000_000_000)
        let inbox = try Inbox(consumer: "billing", expiryMilliseconds: 60_000, clock: clock)
        _ = try await inbox.handle(record("old"), in: fixture.database) { _ in }
        clock.advance(milliseconds: 30_000)
        _ = try await inbox.handle(record("newer"), in: fixture.database) { _ in }
        clock.advance(milliseconds: 40_000)
        // "old" is 70 s old now: this handle's transaction deletes it, and it counts as new again.
        #expect(try await !inbox.handle(record("old"), in: fixture.database) { _ in }.isDuplicate)
        #expect(try await inbox.handle(record("newer"), in: fixture.database) { _ in }.isDuplicate)
        #expect(inbox.statistics.expired == 1)
        clock.advance(milliseconds: 120_000)
        #expect(try await inbox.expire(in: fixture.database) == 2)
    }

    @Test func aRecordWithoutMessageIDNeedsOneGiven() async throws {
        let fixture = try billingFixture()
        let inbox = try Inbox(consumer: "billing")
        await #expect { _ = try await inbox.handle(record(nil), in: fixture.database) { _ in } } throws: {
            ($0 as? OutboxError)?.code == .missingMessageID
        }
        #expect(try await !inbox.handle(record(nil), messageID: "orders/0/0", in: fixture.database) { _ in }.isDuplicate)
        #expect(throws: OutboxError.self) { try Inbox(consumer: "", expiryMilliseconds: 1) }
    }

    @Test func anOrderServiceAndABillingConsumerApplyEachOrderOnce() async throws {
        // The README's example end to end: orders and their events in one transaction, a relay,
        // and a billing consumer that sees every record twice (a redelivery after a crash).
        let fixture = try billingFixture()
        try fixture.topic()
        for number in 0..<20 { try fixture.placeOrder("o-\(number)", cents: 100 + number) }
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        try await relay.publishPending()
        let inbox = try Inbox(consumer: "billing")
        let billing = try fixture.store.consumer(group: "billing", topic: "orders")
        var seen = 0
        for try await record in billing.records {
            for _ in 0..<2 {
                _ = try await inbox.handle(record, in: fixture.database) { db in
                    try db.execute(sql: "INSERT INTO invoices VALUES (?, 1)", arguments: [record.valueString ?? ""])
                }
            }
            try await billing.commit(record)
            seen += 1
            if seen == 20 { break }
        }
        #expect(try invoices(fixture) == 20)
        #expect(inbox.statistics.duplicates == 20)
    }
}
