import StreamStoreFormat
import StreamStoreLog
/// What ``Consumer/process(retry:maxRecords:sleep:onFailure:handler:)`` did before it returned.
public struct ProcessingReport: Sendable, Equatable, Hashable {
    /// Records the handler succeeded on (each committed).
    public var processedRecords: Int = 0
    /// Runs of the handler after a failure, over all records: a record that succeeded on its
    /// third run adds 2.
    public var retriedAttempts: Int = 0
    /// The records given up on, in the order they failed: each appended to the dead-letter
    /// topic, then committed.
    public var deadLetters: [DeadLetterReceipt] = []

    /// A report of nothing done yet.
    public init() {}

    /// Records given up on.
    public var deadLetteredRecords: Int { deadLetters.count }

    /// Records done with: processed or dead-lettered.
    public var handledRecords: Int { processedRecords + deadLetters.count }
}

/// Where a record that kept failing went.
public struct DeadLetterReceipt: Sendable, Equatable, Hashable {
    /// The partition of the record in its topic.
    public var originPartition: Int
    /// The offset of the record in its topic.
    public var originOffset: Int64
    /// The topic the dead letter was appended to (`<topic>.dlq`).
    public var deadLetterTopic: String
    /// The dead letter's partition in ``deadLetterTopic``.
    public var deadLetterPartition: Int
    /// The dead letter's offset in ``deadLetterTopic``.
    public var deadLetterOffset: Int64
    /// How many times the handler ran on the record.
    public var attempts: Int
    /// The last error's description, as the `dlq-error` header has it.
    public var error: String

    /// A receipt with every field given.
    public init(
        originPartition: Int, originOffset: Int64, deadLetterTopic: String, deadLetterPartition: Int, deadLetterOffset: Int64, attempts: Int,
        error: String
    ) {
        self.originPartition = originPartition
        self.originOffset = originOffset
        self.deadLetterTopic = deadLetterTopic
        self.deadLetterPartition = deadLetterPartition
        self.deadLetterOffset = deadLetterOffset
        self.attempts = attempts
        self.error = error
    }
}

/// One failed run of a handler, as ``Consumer/process(retry:maxRecords:sleep:onFailure:handler:)``
/// tells its `onFailure` observer, with what happens next.
public struct ProcessingFailure: Sendable {
    /// What follows the failure.
    public enum NextStep: Sendable, Equatable, Hashable {
        /// The handler runs again after this wait.
        case retry(afterMilliseconds: Int64)
        /// The record goes to the dead-letter topic: the attempts are spent, or the error is a
        /// ``NonRetriableError``.
        case deadLetter
    }

    /// The record the handler failed on.
    public var record: StoredRecord
    /// Which run failed, counting from 1.
    public var attempt: Int
    /// What the handler threw.
    public var error: any Error
    /// Whether the handler runs again, or the record is dead-lettered.
    public var nextStep: NextStep
}
