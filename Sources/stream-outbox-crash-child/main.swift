// A child process for the outbox's crash tests (Tests/StreamStoreOutboxTests/OutboxCrashTests.swift):
// it works until it is killed with SIGKILL at a random moment.
//
// usage: stream-outbox-crash-child service STORE_DIR DATABASE RUN BATCH_ROWS
//        stream-outbox-crash-child consume STORE_DIR DATABASE
//
// The service mode is an order service: two tasks write transactions of one to three orders,
// each an `orders` row (id "RUN-N", customer, seq: the customer's next number) and its event in
// the outbox (topic "orders", key = customer, value "id|customer|seq"); one transaction in five
// throws after writing and is rolled back. Its relay (batches of BATCH_ROWS) publishes the
// events meanwhile. The database is the truth the test checks the topic against. After each
// transaction that committed it prints
//   committed ID[,ID...]   the ids of the orders it wrote
//
// The consume mode is a billing consumer of topic "payments" (one partition), group "billing":
// per record, an Inbox transaction inserts an `invoices` row (message_id, record offset), then
// the offset is committed. It prints
//   handled OFFSET      after the inbox transaction committed, before the offset commit
//   committed NEXT      after the offset commit returned
// Both print "ready" once set up.
import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox

func die(_ error: any Error) -> Never {
    FileHandle.standardError.write(Data("stream-outbox-crash-child: \(error)\n".utf8))
    exit(1)
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// The application database, in WAL mode as services run SQLite.
func openDatabase(_ path: String) throws -> DatabasePool {
    let pool = try DatabasePool(path: path)
    var migrator = DatabaseMigrator()
    migrator.registerMigration("business tables") { db in
        try db.execute(sql: "CREATE TABLE orders (id TEXT PRIMARY KEY, customer TEXT NOT NULL, seq INTEGER NOT NULL)")
        try db.execute(sql: "CREATE TABLE invoices (message_id TEXT NOT NULL, record_offset INTEGER NOT NULL)")
    }
    OutboxSchema.register(in: &migrator)
    try migrator.migrate(pool)
    return pool
}

struct RolledBack: Error {}

func runService(store path: String, database: String, run: String, batchRows: Int) async {
    let store: Store
    let pool: DatabasePool
    let relay: OutboxRelay
    do {
        store = try Store.open(at: path)
        _ = try store.createTopic("orders", config: TopicConfig(partitionCount: 2, dedupeWindowMilliseconds: 3_600_000))
        pool = try openDatabase(database)
        relay = try OutboxRelay(database: pool, store: store, options: OutboxRelay.Options(batchRows: batchRows, pollMilliseconds: 20))
    } catch {
        die(error)
    }
    let customers = (0..<6).map { "customer-\($0)" }
    let next = Locked(0)
    say("ready")
    await withTaskGroup(of: Void.self) { group in
        group.addTask { await relay.run() }
        for _ in 0..<2 {
            group.addTask {
                while true {
                    let count = Int.random(in: 1...3)
                    let first = next.withLock { number in
                        defer { number += count }
                        return number
                    }
                    let rollBack = Int.random(in: 0..<5) == 0
                    let orders = (0..<count).map { ("\(run)-\(first + $0)", customers.randomElement() ?? "customer-0") }
                    do {
                        try await pool.write { db in
                            for (id, customer) in orders {
                                let seq = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), -1) + 1 FROM orders WHERE customer = ?", arguments: [customer]) ?? 0
                                try db.execute(sql: "INSERT INTO orders (id, customer, seq) VALUES (?, ?, ?)", arguments: [id, customer, seq])
                                try Outbox.enqueue(topic: "orders", key: customer, value: "\(id)|\(customer)|\(seq)", in: db)
                            }
                            if rollBack { throw RolledBack() }
                        }
                        say("committed \(orders.map(\.0).joined(separator: ","))")
                    } catch is RolledBack {
                        continue
                    } catch {
                        die(error)
                    }
                }
            }
        }
    }
}

func runConsumer(store path: String, database: String) async {
    do {
        let store = try Store.open(at: path)
        let pool = try openDatabase(database)
        let inbox = try Inbox(consumer: "billing")
        let billing = try store.consumer(group: "billing", topic: "payments")
        say("ready")
        for try await record in billing.records {
            _ = try await inbox.handle(record, in: pool) { db in
                try db.execute(sql: "INSERT INTO invoices (message_id, record_offset) VALUES (?, ?)", arguments: [record.messageID ?? "", record.offset])
            }
            say("handled \(record.offset)")
            // Widens the moment between the inbox's commit and the offset's, where a kill
            // makes the record come again.
            try await Task.sleep(for: .microseconds(Int.random(in: 0...1500)))
            try await billing.commit(record)
            say("committed \(record.offset + 1)")
        }
    } catch {
        die(error)
    }
}

let arguments = CommandLine.arguments
if arguments.count == 6, arguments[1] == "service", let batchRows = Int(arguments[5]) {
    await runService(store: arguments[2], database: arguments[3], run: arguments[4], batchRows: batchRows)
} else if arguments.count == 4, arguments[1] == "consume" {
    await runConsumer(store: arguments[2], database: arguments[3])
} else {
    FileHandle.standardError.write(Data("usage: stream-outbox-crash-child service STORE_DIR DATABASE RUN BATCH_ROWS | consume STORE_DIR DATABASE\n".utf8))
    exit(2)
}
