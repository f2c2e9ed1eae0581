import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox

/// A temporary folder with a store and an application database holding the outbox tables, and
/// small verbs: enqueue in a transaction, read a topic back.
final class OutboxFixture: @unchecked Sendable {
    let folder: String
    var storePath: String { folder + "/store" }
    var databasePath: String { folder + "/app.sqlite" }
    var store: Store
    let database: DatabaseQueue

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-outbox-tests", isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        folder = base.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        store = try Store.open(at: folder + "/store")
        // WAL with synchronous NORMAL, as services usually run SQLite.
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        database = try DatabaseQueue(path: folder + "/app.sqlite", configuration: configuration)
        try database.write { db in
            try db.execute(sql: "CREATE TABLE orders (id TEXT PRIMARY KEY, customer TEXT NOT NULL, cents INTEGER NOT NULL)")
        }
        try OutboxSchema.migrate(database)
    }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A topic with a de-duplication window, as the relay wants.
    @discardableResult
    func topic(_ name: String = "orders", partitions: Int = 1, flush: FlushPolicy = .everyAppend) throws -> Topic {
        try store.createTopic(name, config: TopicConfig(partitionCount: partitions, flush: flush, dedupeWindowMilliseconds: 3_600_000))
    }

    /// Writes an order and its event in one transaction; returns the event's message id.
    @discardableResult
    func placeOrder(_ id: String, customer: String = "ada", cents: Int = 100, topic: String = "orders") throws -> String {
        try database.write { db in
            try db.execute(sql: "INSERT INTO orders (id, customer, cents) VALUES (?, ?, ?)", arguments: [id, customer, cents])
            return try Outbox.enqueue(topic: topic, key: customer, value: #"{"orderId":"\#(id)"}"#, in: db)
        }
    }

    /// Every record of every partition of `topic`, partition by partition.
    func records(_ topic: String = "orders") throws -> [StoredRecord] {
        let handle = try store.topic(topic)
        var all: [StoredRecord] = []
        for partition in 0..<handle.partitionCount {
            var offset = try handle.logStartOffset(partition: partition)
            while true {
                let batch = try handle.read(partition: partition, from: offset, maxBytes: 1 << 20)
                guard let last = batch.last else { break }
                all += batch
                offset = last.offset + 1
            }
        }
        return all
    }

    func pendingRows() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(OutboxSchema.outboxTable)") ?? 0 }
    }
}

