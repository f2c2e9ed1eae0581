// Generated from README.md by ReadmeSnippetFileTests; do not edit.
// swiftlint:disable all
import Foundation
import GRDB
import StreamStore
import StreamStoreMessaging
import StreamStoreOutbox

/// README.md, line 80.
func readmeSnippet1(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {

    let store = try Store.open(at: "/var/lib/orders/events")          // takes an exclusive lock
    let orders = try store.createTopic("orders", config: TopicConfig(partitionCount: 8))

    // Records go to the partition Kafka would pick for their key (murmur2), keyless ones round-robin.
    let receipts = try await orders.append([
        Record(key: "customer-17", value: #"{"type":"order-placed","orderId":"o-1"}"#,
               headers: [RecordHeader(key: "correlation-id", value: "c-1")]),
    ])
    print(receipts)   // [AppendReceipt(partition: 0, baseOffset: 0, lastOffset: 0, timestamp: …)]

    // Read from an offset with a byte budget; keys and values share the read buffer (no copies).
    for record in try orders.read(partition: 0, from: 0, maxBytes: 1 << 20) {
        print(record.offset, record.timestamp, record.valueString ?? "null")
    }

    // Where to start: .beginning, .end, .offset(n), or .timestamp(ms since epoch).
    let start = try orders.offset(partition: 0, for: .timestamp(1_764_410_400_000))

    try store.close()   // clean shutdown: the next open skips recovery
}

/// README.md, line 113.
func readmeSnippet2(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    let producer = try store.producer(for: "orders")                  // idempotent: the store hands out its id
    let delivery = try await producer.send(Record(key: "customer-17", value: #"{"type":"order-placed"}"#))
    let place = try await delivery.offset()                           // RecordOffset: partition and offset, once durable
    let places = try await producer.send([Record(key: "customer-42", value: "a"), Record(key: "customer-17", value: "b")])
    print(place, places)
    try await producer.close()                                        // sends what is queued first
}

/// README.md, line 168.
func readmeSnippet3(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    var batch = RecordBatch()
    for event in events {
        try event.key.withUnsafeBytes { key in
            try event.payload.withUnsafeBytes { value in try batch.append(key: key, value: value) }
        }
    }
    let receipt = try await orders.append(batch, partition: 3)
    batch.removeAll()
}

/// README.md, line 181.
func readmeSnippet4(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    var offset = try orders.logStartOffset(partition: 3)
    while true {
        let batches = try orders.readBatches(partition: 3, from: offset)
        guard let last = batches.last else { break }
        for batch in batches {
            try batch.forEachRecord(from: offset) { record in
                // record.key / record.value point into the read buffer: valid in this closure only
            }
        }
        offset = last.nextOffset
    }
}

/// README.md, line 226.
func readmeSnippet5(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    let orders = try store.createTopic("orders", config: TopicConfig(partitionCount: 8, compression: .zstd(level: 3)))
}

/// README.md, line 253.
func readmeSnippet6(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    // Everything from yesterday on, then stop at the log end.
    for try await record in orders.replay(options: ReplayOptions(from: .timestamp(yesterday))) {
        print(record.partition, record.offset, record.valueString ?? "null")
    }

    // Live tail of partition 3 from now on, until the task is cancelled.
    for try await record in orders.replay(partition: 3, options: ReplayOptions(from: .end, follow: true)) { print(record.offset) }

    // Fastest: a view of each record, read in place, nothing allocated or retained per record.
    var firstWithHeaders: StoredRecord?
    try await orders.replay(options: ReplayOptions(from: .offset(1_000), until: .offset(2_000))).forEachRecord { record in
        total += record.value?.count ?? 0
        if firstWithHeaders == nil && record.headerCount > 0 { firstWithHeaders = StoredRecord(copying: record) }  // copy to keep
    }

    // Batch by batch: the same views, with the batches' own fields. Records outside the range are skipped.
    for try await batch in orders.replayBatches(options: ReplayOptions(from: .offset(1_000), until: .offset(2_000))) {
        try batch.forEachRecord { record in total += record.value?.count ?? 0 }
    }
}

/// README.md, line 298.
func readmeSnippet7(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    // The service that owns the store:
    let store = try Store.open(at: path)                                     // the one writer
    // Any other process, as the same user (or one in the group, see below):
    let reader = try Store.open(at: path, options: Store.Options(mode: .readOnly))
    for try await record in try reader.topic("orders").replay(partition: 0, options: ReplayOptions(from: .end, follow: true)) {
        print(record.offset, record.valueString ?? "")                       // woken by the writer's appends
    }
}

/// README.md, line 341.
func readmeSnippet8(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    let billing = try store.consumer(group: "billing", topic: "orders",
                                     options: ConsumerOptions(commitPolicy: .automatic(everyRecords: 1_000, everyMilliseconds: 1_000)))
    for try await record in billing.records {          // follows the log; ends when cancelled or closed
        try await charge(record)                        // make it idempotent: delivery is at-least-once
    }                                                   // commits what was handled: every 1,000 records or second

    let nightly = try store.consumer(group: "nightly-report", topic: "orders", options: ConsumerOptions(commitPolicy: .automatic()))
    for try await record in nightly.records(until: .end) { report(record) }   // a batch job: what is there, then done
    try await billing.commit(offsets: [0: 120, 3: 77])  // several partitions in one commit, all owned or none written

    let group = try store.group("billing")
    for lag in try group.lag(topic: "orders") {         // records behind, and age of the oldest unprocessed
        print(lag.partition, lag.committedOffset ?? -1, lag.lagRecords, lag.lagMilliseconds)
    }
    try await group.reset(topic: "orders", to: .timestamp(beforeTheBug))   // replay after a bug fix
}

/// README.md, line 406.
func readmeSnippet9(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    // In each of several worker processes, beside the service that appends to "orders":
    let store = try Store.open(at: path, options: Store.Options(mode: .readOnly))
    let billing = try store.consumer(group: "billing", topic: "orders")
    for try await record in billing.records {          // this process's share of the partitions
        try await charge(record)
        try await billing.commit(record)
    }
}

/// README.md, line 426.
func readmeSnippet10(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    let billing = try store.consumer(group: "billing", topic: "orders")
    let report = try await billing.process(retry: RetryPolicy(maxAttempts: 5, initialBackoffMilliseconds: 200)) { record in
        guard let order = try? JSONDecoder().decode(Order.self, from: Data(record.value ?? [])) else {
            throw DeadLetterNow("the value is not an order")     // a NonRetriableError: no retries
        }
        try await charge(order)                                  // throws: retried, then dead-lettered
    }
    print(report.processedRecords, report.retriedAttempts, report.deadLetters.map(\.originOffset))

    for case .success(let letter) in try store.deadLetters(of: "orders") {
        print(letter.originPartition, letter.originOffset, letter.attempts, letter.error)
    }
    // After the fix: the dead letters go back to their partitions of orders.
    let redriven = try await store.redriveDeadLetters(topic: "orders") { $0.error.contains("timeout") }
}

/// README.md, line 482.
func readmeSnippet11(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    struct Order: Codable { var customer: String; var amountCents: Int }

    struct TotalsPerCustomer: Projection {
        let name = "totals-per-customer"
        func initialState() -> [String: Int] { [:] }
        func apply(_ record: StoredRecord, to totals: inout [String: Int]) throws {
            let order = try JSONDecoder().decode(Order.self, from: Data(record.value ?? []))
            totals[order.customer, default: 0] += order.amountCents
        }
    }

    let store = try Store.open(at: "/var/lib/shop/events")
    let orders = try store.createTopic("orders", config: TopicConfig(partitionCount: 4))
    _ = try await orders.append([
        Record(key: "ada", value: #"{"customer":"ada","amountCents":1250}"#),
        Record(key: "bob", value: #"{"customer":"bob","amountCents":990}"#),
        Record(key: "ada", value: #"{"customer":"ada","amountCents":300}"#),
    ])
    let result = try await store.rebuild(TotalsPerCustomer(), from: "orders")
    print(result.state)                      // ["ada": 1550, "bob": 990]
    print(result.report.replayedRecords)     // 3 now; next time only the records appended since
}

/// README.md, line 516.
func readmeSnippet12(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    for partition in try store.enforceRetention(topic: "orders", dryRun: true) {
        print(partition.partition, partition.logStartOffset, partition.deleted.count, partition.kept.first?.reason ?? "")
    }
    try store.updateTopic("orders") { $0.retentionMilliseconds = 30 * 86_400_000; $0.retentionBytes = 50 << 30 }
}

/// README.md, line 536.
func readmeSnippet13(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    var placed = Record(key: "o-1", value: #"{"orderId":"o-1"}"#)
    placed.setHeader(.messageID, "m-1")
    placed.setHeader(.correlationID, "checkout-42")
    placed.setHeader(.eventType, "order-placed")

    let paid = Record.followUp(to: placed, key: "o-1", value: #"{"orderId":"o-1","paid":true}"#, eventType: "order-paid")
    print(paid.correlationID!, paid.causationID!)   // checkout-42 m-1
}

/// README.md, line 566.
func readmeSnippet14(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    // Version 1 wrote {"orderID":"o-1","amount":"1250"}: cents as a string. Version 2 renamed the
    // field and made it a number: a breaking change, so a new version and an upcaster.
    struct OrderPlaced: VersionedEvent {
        static let eventType = "order-placed"
        static let schemaVersion = 2
        var orderID: String
        var totalCents: Int
        var coupon: String?          // added later and optional: no new version
    }

    var events = EventDecoder([OrderPlaced.self])
    events.addUpcaster(for: OrderPlaced.self, from: 1) { json in
        json["totalCents"] = json["amount"]?.stringValue.flatMap { Int64($0) }.map { JSONValue.integer($0) }
        json["amount"] = nil
    }

    _ = try await orders.append(OrderPlaced(orderID: "o-2", totalCents: 990), key: "o-2")
    for try await decoded in orders.replay().events(events) {     // a consumer's records work the same
        if let placed = decoded.event as? OrderPlaced {            // version 1 events arrive upcast
            print(decoded.record.offset, placed.orderID, placed.totalCents)
        }
    }
    let record = try orders.read(partition: 0, from: 0).first
    if let record, let placed = try events.decode(OrderPlaced.self, from: record) { print(placed.totalCents) }
}

/// README.md, line 628.
func readmeSnippet15(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    let payments = try store.createTopic("payments", config: TopicConfig(dedupeWindowMilliseconds: 10 * 60_000))
    let record = Record(value: "charge 40 EUR", headers: [RecordHeader(.messageID, "pay-7f3a")])
    let first = try await payments.append([record], partition: 0)
    let retry = try await payments.append([record], partition: 0)     // the client timed out and retried
    print(first.baseOffset, retry.isDuplicate, retry.offset(ofRecordAt: 0))   // 0 true (partition: 0, offset: 0)
}

/// README.md, line 656.
func readmeSnippet16(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    while true {
        let end = try accounts.logEndOffset(partition: 0)
        let balance = try accounts.read(partition: 0, from: 0, maxBytes: 1 << 20).reduce(0) { $0 + Int($1.valueString!)! }
        guard balance >= 5 else { break }
        do {
            _ = try await accounts.append([Record(value: "-5")], partition: 0, expectedNextOffset: end)
            break
        } catch {
            guard error.code == .offsetConflict else { throw error }   // someone appended first:
        }                                                              // read again, decide again
    }
}

/// README.md, line 677.
func readmeSnippet17(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {
    let report = try store.trace(correlationID: "order-4711")          // or topics: ["orders", "payments"]
    for record in report.records {                                       // by timestamp, then topic, partition, offset
        let pending = record.groups.filter { !$0.processed }.map(\.group)
        print(record.topic, record.partition, record.offset, record.eventType ?? "-", record.messageID ?? "-", pending)
    }
    print(report.statistics.segmentsScanned, report.statistics.segmentsSkippedByFilter, report.statistics.elapsed)
}

/// README.md, line 738.
func readmeSnippet18(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {

    // The order service: its own database, its tables and the outbox's in one migration.
    let db = try DatabaseQueue(path: "/var/lib/shop/orders.sqlite")
    var migrator = DatabaseMigrator()
    migrator.registerMigration("orders") { db in
        try db.execute(sql: "CREATE TABLE orders (id TEXT PRIMARY KEY, customer TEXT NOT NULL, cents INTEGER NOT NULL)")
        try db.execute(sql: "CREATE TABLE invoices (order_id TEXT PRIMARY KEY, cents INTEGER NOT NULL)")
    }
    OutboxSchema.register(in: &migrator)
    try migrator.migrate(db)

    let store = try Store.open(at: "/var/lib/shop/events")
    // The relay needs a de-duplication window on its topics (it creates missing ones with one).
    _ = try store.createTopic("orders", config: TopicConfig(partitionCount: 4, dedupeWindowMilliseconds: 86_400_000))
    let relay = try OutboxRelay(database: db, store: store)     // wakes on every commit that enqueues
    let relaying = Task { await relay.run() }

    func placeOrder(_ id: String, customer: String, cents: Int) async throws {
        try await db.write { db in                              // one transaction: both or neither
            try db.execute(sql: "INSERT INTO orders (id, customer, cents) VALUES (?, ?, ?)", arguments: [id, customer, cents])
            try Outbox.enqueue(topic: "orders", key: customer,    // key: a customer's events stay in order
                               value: #"{"type":"order-placed","orderId":"\#(id)","cents":\#(cents)}"#,
                               headers: [RecordHeader(.eventType, "order-placed")], in: db)
        }
    }
    try await placeOrder("o-1", customer: "ada", cents: 1250)

    // The billing consumer (here in the same process and database; usually its own): the invoice
    // and the message id commit together, so a redelivery after a crash invoices nothing twice.
    struct Placed: Decodable { var orderId: String; var cents: Int }
    let inbox = try Inbox(consumer: "billing")
    let billing = try store.consumer(group: "billing", topic: "orders")
    for try await record in billing.records {
        let order = try JSONDecoder().decode(Placed.self, from: Data(record.value ?? []))
        let outcome = try await inbox.handle(record, in: db) { db in
            try db.execute(sql: "INSERT INTO invoices (order_id, cents) VALUES (?, ?)", arguments: [order.orderId, order.cents])
        }
        if outcome.isDuplicate { print("already invoiced \(order.orderId)") }
        try await billing.commit(record)
    }
}

/// README.md, line 815.
func readmeSnippet19(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {

    let stockService = try Responder(store: store, group: "stock-service", commandTopic: "stock")
    let answering = Task { try await stockService.run { command in Reply("reserved", eventType: "stock-reserved") } }

    let requester = try Requester(store: store, options: Requester.Options(replyTopic: "checkout.replies"))
    do throws(MessagingError) {
        let reply = try await requester.request(Record(key: "sku-1", value: "2"), to: "stock", timeout: .seconds(5))
        print(reply.valueString ?? "", reply.causationID ?? "")       // "reserved", the command's message id
    } catch {
        print(error.code)                                             // .timeout, .cancelled, .remoteFailure, …
    }
    answering.cancel()
}

/// README.md, line 846.
func readmeSnippet20(store: Store, orders: Topic, accounts: Topic, path: String, events: [Event], yesterday: Int64, beforeTheBug: Int64, total: inout Int) async throws {

    let order = try SagaDefinition(name: "order", steps: [
        SagaStep(name: "reserve-stock", topic: "stock", action: "reserve-stock", compensation: "release-stock", timeoutMilliseconds: 5_000),
        SagaStep(name: "charge-payment", topic: "payments", action: "charge-payment", compensation: "refund-payment", timeoutMilliseconds: 5_000),
        SagaStep(name: "ship", topic: "shipping", action: "ship-order", timeoutMilliseconds: 10_000),
    ])
    // The participants answer their commands as responders; the payment service declines some.
    struct Declined: Error {}
    let payments = try Responder(store: store, group: "payment-service", commandTopic: "payments")
    let charging = Task {
        try await payments.run { command in
            if command.eventType == "charge-payment", command.valueString?.contains("expired-card") == true { throw Declined() }
            return Reply("ok")                                        // charge or refund, idempotently
        }
    }
    let manager = try await SagaManager(store: store, definition: order)   // rebuilds its instances
    let managing = Task { try await manager.run() }                        // consumes the replies
    try await manager.start(id: "order-17", data: #"{"sku":"sku-1","count":2,"card":"expired-card"}"#)
    // Once the stock service reserved and the payment service declined, the stock is released and
    // manager.instance("order-17")?.status is .compensated.
    managing.cancel()
    charging.cancel()
}
