/// What the outbox and the inbox throw besides the store's ``/StreamStoreFormat/StreamStoreError``
/// (a record the store refuses) and GRDB's `DatabaseError` (the database refused a statement).
public struct OutboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for code to switch on.
    public enum Code: String, Sendable, Equatable {
        /// The relay will not publish to a topic without a de-duplication window: after a crash
        /// between an append and the row's deletion, the row is published again, and only the
        /// window keeps that second copy out of the topic.
        case dedupeWindowMissing
        /// An outbox row that cannot become a record (its `headers` column is not the JSON the
        /// relay reads, or its partition is out of the topic's range). The relay stops at it (rows
        /// of other partitions go on) until the row is fixed or deleted.
        case invalidOutboxRow
        /// A record given to ``Inbox`` has no `message-id` header, and no id was passed.
        case missingMessageID
        /// An option out of its range; the message says which.
        case invalidOption
    }

    /// What went wrong.
    public var code: Code
    /// A full sentence: what happened and what to do.
    public var message: String
    /// The outbox row involved, if any.
    public var rowID: Int64?

    /// An error with its code, message and row.
    public init(_ code: Code, _ message: String, rowID: Int64? = nil) {
        self.code = code
        self.message = message
        self.rowID = rowID
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}
