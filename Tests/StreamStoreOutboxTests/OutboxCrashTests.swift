import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox
import StreamStoreTestSupport
import Testing

/// A real child process (stream-outbox-crash-child) killed with SIGKILL at random moments: an
/// order service writing orders with their events while its relay runs, and a billing consumer
/// with an inbox. After every kill the test restarts what the child ran and checks the database
/// against the topic. `STREAMSTORE_OUTBOX_KILLS` sets the kills per test (`make crash-test`: 100).
@Suite(.serialized, .tags(.slow), .timeLimit(.minutes(20))) struct OutboxCrashTests {
    static var kills: Int { Int(ProcessInfo.processInfo.environment["STREAMSTORE_OUTBOX_KILLS"] ?? "") ?? 20 }

    /// After every kill and restart (the relay drains what is pending): every committed order has
    /// exactly one event, no event belongs to an order that was rolled back (or never committed
    /// because of the kill), and each customer's events come out in commit order.
    @Test func everyCommittedOrderHasExactlyOneEventInCommitOrder() async throws {
        let fixture = try OutboxFixture()
        let crashDatabase = fixture.folder + "/service.sqlite"
        try fixture.store.close()
        // Kill moments cannot be replayed (they race the child's scheduling), so nothing is seeded.
        var orderCount = 0
        for iteration in 0..<Self.kills {
            let batchRows = [1, 7, 50, 200].randomElement() ?? 1
            let printed = try await runChildAndKill(
                ["service", fixture.storePath, crashDatabase, "r\(iteration)", "\(batchRows)"], work: "committed ",
                afterMilliseconds: Int.random(in: 30...300))
            // The restart: the store recovers, the relay publishes what the child left.
            fixture.store = try Store.open(at: fixture.storePath)
            let database = try DatabasePool(path: crashDatabase)
            let relay = try OutboxRelay(database: database, store: fixture.store)
            try await relay.publishPending()
            let context = "iteration \(iteration), batches of \(batchRows)"

            let orders = try await database.read { db in
                try Row.fetchAll(db, sql: "SELECT id, customer, seq FROM orders").map { row -> (String, String, Int) in (row[0], row[1], row[2]) }
            }
            let topic = try fixture.store.topic("orders")
            let records = try fixture.records()
            var events: [String: Int] = [:]
            var sequences: [String: [Int]] = [:]
            var problems: [String] = []
            for record in records {
                let fields = (record.valueString ?? "").split(separator: "|").map(String.init)
                guard fields.count == 3, let seq = Int(fields[2]) else {
                    problems.append("offset \(record.offset): \(record.valueString ?? "null")")
                    continue
                }
                events[fields[0], default: 0] += 1
                sequences[fields[1], default: []].append(seq)
                if record.keyString != fields[1] || record.partition != topic.partition(forKey: Array(fields[1].utf8)) {
                    problems.append("\(fields[0]) has key \(record.keyString ?? "nil") in partition \(record.partition)")
                }
            }
            let committed = Set(orders.map(\.0))
            let doubled = events.filter { $0.value > 1 }.map(\.key)
            let lost = committed.filter { events[$0] == nil }
            let phantom = events.keys.filter { !committed.contains($0) }
            #expect(doubled.isEmpty, "orders with more than one event: \(doubled.prefix(5)) (\(context))")
            #expect(lost.isEmpty, "committed orders without an event: \(lost.prefix(5)) (\(context))")
            #expect(phantom.isEmpty, "events of orders never committed: \(phantom.prefix(5)) (\(context))")
            #expect(problems.isEmpty, "\(problems.prefix(5)) (\(context))")
            for (customer, seqs) in sequences {
                #expect(seqs == Array(0..<seqs.count), "\(customer)'s events out of commit order: \(seqs.prefix(20)) (\(context))")
            }
            #expect(Set(records.compactMap(\.messageID)).count == records.count, "message ids repeat (\(context))")
            #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM streamstore_outbox") } == 0)
            // The round did work: every order it reported committed is in the database, so it grew.
            let reported = Set(printed.filter { $0.hasPrefix("committed ") }.flatMap { $0.dropFirst("committed ".count).split(separator: ",").map(String.init) })
            #expect(!reported.isEmpty && reported.isSubset(of: committed), "orders reported committed but not in the database: \(reported.subtracting(committed).prefix(5)) (\(context))")
            #expect(orders.count > orderCount, "no order committed this round (\(context))")
            orderCount = orders.count
            try fixture.store.close()
        }
        fixture.store = try Store.open(at: fixture.storePath)
    }

    /// A billing consumer killed at random moments, also between its inbox transaction and its
    /// offset commit (the record then comes again): each payment is invoiced exactly once.
    @Test func anInboxConsumerAppliesEachRecordOnce() async throws {
        let fixture = try OutboxFixture()
        let crashDatabase = fixture.folder + "/billing.sqlite"
        let total = 2_000
        let payments = try fixture.store.createTopic("payments", config: TopicConfig(partitionCount: 1))
        for start in stride(from: 0, to: total, by: 100) {
            let records = (start..<start + 100).map { number in
                StreamStore.Record(value: "payment \(number)", headers: [RecordHeader(key: "message-id", value: "pay-\(number)")])
            }
            _ = try await payments.append(records, partition: 0)
        }
        try fixture.store.close()
        var killedBetween = 0
        var committedBefore: Int64 = 0
        for iteration in 0..<Self.kills {
            // Each round commits while payments are left (a long run may consume them all).
            let left = committedBefore < Int64(total)
            let lines = try await runChildAndKill(
                ["consume", fixture.storePath, crashDatabase], work: left ? "committed " : nil, afterMilliseconds: Int.random(in: 30...300))
            if let last = lines.last(where: { $0.hasPrefix("handled") || $0.hasPrefix("committed") }), last.hasPrefix("handled") { killedBetween += 1 }
            fixture.store = try Store.open(at: fixture.storePath)
            let committed = try fixture.store.group("billing").committedOffsets(topic: "payments")[0] ?? 0
            try fixture.store.close()
            let database = try DatabasePool(path: crashDatabase)
            let (rows, distinct, below) = try await database.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM invoices") ?? -1,
                    try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT message_id) FROM invoices") ?? -1,
                    try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT record_offset) FROM invoices WHERE record_offset < ?", arguments: [committed]) ?? -1
                )
            }
            if left { #expect(committed > committedBefore, "no offset committed in round \(iteration)") }
            committedBefore = committed
            #expect(rows == distinct, "a payment was invoiced twice (iteration \(iteration))")
            #expect(below == Int(committed), "a committed payment has no invoice (iteration \(iteration))")
        }
        if Self.kills >= 10 { #expect(killedBetween > 0, "no kill landed between an inbox commit and its offset commit") }
        // The last run goes to the end.
        fixture.store = try Store.open(at: fixture.storePath)
        let inbox = try Inbox(consumer: "billing")
        let database = try DatabasePool(path: crashDatabase)
        let billing = try fixture.store.consumer(group: "billing", topic: "payments")
        if (try fixture.store.group("billing").committedOffsets(topic: "payments")[0] ?? 0) < Int64(total) {
            for try await record in billing.records {
                _ = try await inbox.handle(record, in: database) { db in
                    try db.execute(sql: "INSERT INTO invoices (message_id, record_offset) VALUES (?, ?)", arguments: [record.messageID ?? "", record.offset])
                }
                try await billing.commit(record)
                if record.offset == Int64(total - 1) { break }
            }
        }
        let invoices = try await database.read { db in try String.fetchAll(db, sql: "SELECT message_id FROM invoices") }
        #expect(invoices.count == total && Set(invoices) == Set((0..<total).map { "pay-\($0)" }), "\(killedBetween) kills between the commits")
    }

    /// Starts the child, waits for "ready" and for its first line starting with `work` (nil: the
    /// round may find nothing to do), SIGKILLs it after a delay, and returns what it printed. A
    /// child that ends on its own, never gets ready or does no work is a recorded failure with
    /// its exit status and stderr. The child's output is awaited, never read by a blocked
    /// thread: the tests' few shared threads stay free for the other suites.
    @discardableResult
    private func runChildAndKill(
        _ arguments: [String], work: String?, afterMilliseconds: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [String] {
        let child = try ChildProcess("stream-outbox-crash-child", arguments)
        return await child.crashRound(work: work, killAfterMilliseconds: afterMilliseconds, sourceLocation: sourceLocation)
    }
}
