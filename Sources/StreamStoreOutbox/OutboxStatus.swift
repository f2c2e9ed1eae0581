import GRDB
import StreamStore

/// What waits in an outbox and what its relays reported, read from the database alone, so any
/// process can ask (`stream-tool outbox status`).
public struct OutboxStatus: Sendable, Equatable {
    /// Pending rows of one topic.
    public struct TopicBacklog: Sendable, Equatable {
        /// The topic.
        public var topic: String
        /// Rows not yet published.
        public var pendingRows: Int
        /// The oldest pending row's `created_at_ms`.
        public var oldestCreatedAtMilliseconds: Int64
    }

    /// Rows not yet published, all topics together.
    public var pendingRows: Int
    /// How long the oldest pending row has waited, in milliseconds (0 when none waits).
    public var oldestPendingAgeMilliseconds: Int64
    /// Per topic, by name.
    public var topics: [TopicBacklog]
    /// Rows relays have published from this database since its outbox was created.
    public var publishedRows: Int
    /// When a relay last published, in milliseconds since the epoch.
    public var lastPublishedAtMilliseconds: Int64?
    /// Failed relay passes since the outbox was created.
    public var relayErrors: Int
    /// The last failure a relay recorded, and when.
    public var lastError: String?
    /// When it was recorded, in milliseconds since the epoch.
    public var lastErrorAtMilliseconds: Int64?

    /// Reads the status from `reader`'s database; `now` is the time ages are measured to.
    public static func read(from reader: some DatabaseReader, now: Int64 = SystemClock().nowMilliseconds()) async throws -> OutboxStatus {
        try await reader.read { db in try read(db, now: now) }
    }

    /// Reads the status within `db`'s current transaction.
    public static func read(_ db: Database, now: Int64) throws -> OutboxStatus {
        let backlog = try Row.fetchAll(
            db, sql: "SELECT topic, COUNT(*), MIN(created_at_ms) FROM \(OutboxSchema.outboxTable) GROUP BY topic ORDER BY topic"
        ).map { row in TopicBacklog(topic: row[0], pendingRows: row[1], oldestCreatedAtMilliseconds: row[2]) }
        let relay = try Row.fetchOne(
            db, sql: "SELECT published_rows, last_published_at_ms, errors, last_error, last_error_at_ms FROM \(OutboxSchema.relayTable) WHERE id = 1")
        let oldest = backlog.map(\.oldestCreatedAtMilliseconds).min()
        return OutboxStatus(
            pendingRows: backlog.reduce(0) { $0 + $1.pendingRows }, oldestPendingAgeMilliseconds: oldest.map { max(0, now - $0) } ?? 0,
            topics: backlog, publishedRows: relay?[0] ?? 0, lastPublishedAtMilliseconds: relay?[1], relayErrors: relay?[2] ?? 0,
            lastError: relay?[3], lastErrorAtMilliseconds: relay?[4])
    }
}
