import Foundation
import GRDB
import StreamStore

/// Writes events into the outbox inside the application's own write transaction, so the event
/// exists exactly when the state change that caused it was committed (docs/OUTBOX.md).
///
/// ```swift
/// try await dbQueue.write { db in
///     try db.execute(sql: "INSERT INTO orders (id, customer, cents) VALUES (?, ?, ?)", arguments: ["o-1", "ada", 1250])
///     try Outbox.enqueue(StreamStore.Record(key: "o-1", value: #"{"type":"order-placed","orderId":"o-1"}"#), topic: "orders", in: db)
/// }
/// ```
///
/// An ``OutboxRelay`` then appends the row to the topic and deletes it once it is durable.
public enum Outbox {
    /// Adds `record` to the outbox in `db`'s current transaction and returns its message id.
    ///
    /// - A `message-id` header is kept; a record without one gets a random UUID, stored with the
    ///   row, so every publication of the row carries the same id (the topic's de-duplication
    ///   window relies on it).
    /// - `correlation-id` and `causation-id` are kept, as are all other headers, in their order;
    ///   the published record has `message-id`, `correlation-id` and `causation-id` first.
    /// - `partition`: where the record goes; `nil` (the default) lets the key choose, as
    ///   `Topic.append` does (keyless rows spread by their row id).
    /// - The record's timestamp is not kept: the store stamps the time of the append.
    ///
    /// Throws the store's error for a record the store would refuse (an invalid topic name, a
    /// record past ``/StreamStoreFormat/Limits/maxRecordBytes``, too many headers, a message id past
    /// ``/StreamStoreFormat/Limits/maxMessageIDBytes``), so a bad event fails the transaction
    /// that made it instead of stopping the relay later.
    @discardableResult
    public static func enqueue(_ record: StreamStore.Record, topic: String, partition: Int? = nil, in db: Database) throws -> String {
        var row = try OutboxRow(record: record, topic: topic, partition: partition)
        if row.messageID.isEmpty { row.messageID = UUID().uuidString.lowercased() }
        try db.execute(
            sql: """
                INSERT INTO \(OutboxSchema.outboxTable) (topic, target_partition, key, value, message_id, correlation_id, causation_id, headers)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                row.topic, row.partition, row.key.map { Data($0) }, row.value.map { Data($0) }, row.messageID, row.correlationID,
                row.causationID, try OutboxHeaders.encode(row.otherHeaders),
            ])
        return row.messageID
    }

    /// Adds an event to the outbox in `db`'s current transaction and returns its message id: the
    /// same as ``enqueue(_:topic:partition:in:)`` with a record of this key, value and headers,
    /// spelled without naming `Record` (GRDB has a type of that name too).
    @discardableResult
    public static func enqueue(
        topic: String, key: String? = nil, value: String, headers: [RecordHeader] = [], partition: Int? = nil, in db: Database
    ) throws -> String {
        try enqueue(StreamStore.Record(key: key, value: value, headers: headers), topic: topic, partition: partition, in: db)
    }

    /// Adds several records to the outbox in `db`'s current transaction, in order; returns their
    /// message ids (see ``enqueue(_:topic:partition:in:)``).
    @discardableResult
    public static func enqueue(_ records: [StreamStore.Record], topic: String, in db: Database) throws -> [String] {
        try records.map { try enqueue($0, topic: topic, in: db) }
    }
}
