import GRDB
import StreamStore

/// Makes a consumer's effects happen once per message, whatever the deliveries: the handler's
/// changes and the message id are committed in one SQLite transaction, and a message whose id is
/// already there is skipped (docs/OUTBOX.md, "The inbox").
///
/// ```swift
/// let inbox = Inbox(consumer: "billing")
/// for try await record in billing.records {
///     let outcome = try await inbox.handle(record, in: dbQueue) { db in
///         try db.execute(sql: "INSERT INTO invoices (order_id, cents) VALUES (?, ?)", arguments: [orderID, cents])
///     }
///     if case .duplicate = outcome { print("seen before, skipped") }
///     try await billing.commit(record)
/// }
/// ```
///
/// A crash between the transaction and the consumer's offset commit delivers the record again;
/// its id is in the inbox, so the handler does not run twice. Ids are kept per `consumer` name
/// (two consumers in one database keep apart) for ``expiryMilliseconds``, then deleted: the
/// window must be longer than a record can take to come again (the time a consumer may stay
/// down, or a replay's reach).
public final class Inbox: Sendable {
    /// What ``handle(_:messageID:in:_:)`` did.
    public enum Outcome<Value: Sendable>: Sendable {
        /// The handler ran and its transaction committed with the message id; its result.
        case handled(Value)
        /// The message id was handled before (in milliseconds since the epoch): the handler did
        /// not run and nothing was written.
        case duplicate(handledAtMilliseconds: Int64)

        /// True for ``duplicate(handledAtMilliseconds:)``.
        public var isDuplicate: Bool {
            if case .duplicate = self { return true }
            return false
        }
    }

    /// Counts since the inbox was made.
    public struct Statistics: Sendable, Equatable {
        /// Messages whose handler ran and committed.
        public var handled: Int
        /// Messages skipped as already handled.
        public var duplicates: Int
        /// Inbox rows deleted because they passed the expiry window.
        public var expired: Int
    }

    /// The consumer's name, which keeps its ids apart from other consumers' in the table.
    public let consumer: String
    /// How long a handled id is kept, in milliseconds.
    public let expiryMilliseconds: Int64
    private let clock: any StoreClock
    private let state = Locked((statistics: Statistics(handled: 0, duplicates: 0, expired: 0), lastExpiryMilliseconds: Int64?.none))

    /// An inbox for `consumer` keeping ids for `expiryMilliseconds` (default 7 days, a topic's
    /// default retention).
    public init(consumer: String, expiryMilliseconds: Int64 = 7 * 86_400_000, clock: any StoreClock = SystemClock()) throws {
        guard !consumer.isEmpty, expiryMilliseconds > 0 else {
            throw OutboxError(.invalidOption, "An inbox needs a consumer name and a positive expiryMilliseconds.")
        }
        self.consumer = consumer
        self.expiryMilliseconds = expiryMilliseconds
        self.clock = clock
    }

    /// Runs `body` and records the message's id in the same write transaction, unless the id was
    /// recorded before: then `body` does not run and the outcome says so.
    ///
    /// The id is `messageID` when given, else the record's `message-id` header
    /// (``OutboxError/Code/missingMessageID`` when it has none). If `body` throws, nothing of it
    /// and no id is committed, and the error is rethrown: the message can be handled again.
    /// Now and then (at most every hundredth of the window) the same transaction also deletes
    /// ids older than ``expiryMilliseconds``.
    public func handle<Value: Sendable>(
        _ record: StoredRecord, messageID: String? = nil, in writer: some DatabaseWriter,
        _ body: @escaping @Sendable (Database) throws -> Value
    ) async throws -> Outcome<Value> {
        guard let id = messageID ?? record.messageID, !id.isEmpty else {
            throw OutboxError(
                .missingMessageID,
                "The record at offset \(record.offset) of partition \(record.partition) has no message-id header; pass messageID: to name it.")
        }
        let now = clock.nowMilliseconds()
        let expireBefore: Int64? = state.withLock { state in
            if let last = state.lastExpiryMilliseconds, now - last < max(1000, expiryMilliseconds / 100) { return nil }
            state.lastExpiryMilliseconds = now
            return now - expiryMilliseconds
        }
        let consumer = self.consumer
        let (outcome, expired) = try await writer.write { db -> (Outcome<Value>, Int) in
            var expired = 0
            if let expireBefore {
                try db.execute(
                    sql: "DELETE FROM \(OutboxSchema.inboxTable) WHERE consumer = ? AND handled_at_ms < ?", arguments: [consumer, expireBefore])
                expired = db.changesCount
            }
            if let handledAt = try Int64.fetchOne(
                db, sql: "SELECT handled_at_ms FROM \(OutboxSchema.inboxTable) WHERE consumer = ? AND message_id = ?", arguments: [consumer, id])
            {
                return (.duplicate(handledAtMilliseconds: handledAt), expired)
            }
            let value = try body(db)
            try db.execute(
                sql: "INSERT INTO \(OutboxSchema.inboxTable) (consumer, message_id, handled_at_ms, record_partition, record_offset) VALUES (?, ?, ?, ?, ?)",
                arguments: [consumer, id, now, record.partition, record.offset])
            return (.handled(value), expired)
        }
        state.withLock { state in
            if outcome.isDuplicate { state.statistics.duplicates += 1 } else { state.statistics.handled += 1 }
            state.statistics.expired += expired
        }
        return outcome
    }

    /// Deletes this consumer's ids older than the window now; returns how many.
    @discardableResult
    public func expire(in writer: some DatabaseWriter) async throws -> Int {
        let cutoff = clock.nowMilliseconds() - expiryMilliseconds
        let consumer = self.consumer
        let expired = try await writer.write { db in
            try db.execute(sql: "DELETE FROM \(OutboxSchema.inboxTable) WHERE consumer = ? AND handled_at_ms < ?", arguments: [consumer, cutoff])
            return db.changesCount
        }
        state.withLock { $0.statistics.expired += expired }
        return expired
    }

    /// Counts since the inbox was made.
    public var statistics: Statistics { state.withLock { $0.statistics } }
}
