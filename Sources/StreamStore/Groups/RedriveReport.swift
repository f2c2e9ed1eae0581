import StreamStoreFormat
import StreamStoreLog
/// What ``Store/redriveDeadLetters(topic:group:limit:dryRun:filter:)`` did, or with `dryRun`
/// would do.
public struct RedriveReport: Sendable, Equatable {
    /// The dead-letter topic read (`<topic>.dlq`).
    public var deadLetterTopic: String
    /// The consumer group whose commits on the dead-letter topic record the progress.
    public var group: String
    /// True when nothing was appended or committed.
    public var dryRun: Bool
    /// The dead letters redriven (or that would be), in the order they were read.
    public var redriven: [RedrivenDeadLetter] = []
    /// Records of the dead-letter topic that are not valid dead letters of the topic, passed
    /// over: each `.invalidDeadLetter` error says why.
    public var skipped: [SkippedDeadLetter] = []
    /// Valid dead letters the filter rejected, passed over.
    public var filteredOutRecords: Int = 0
    /// Per partition of the dead-letter topic, the offsets this run read.
    public var partitions: [PartitionProgress] = []

    /// A report of nothing redriven yet.
    public init(deadLetterTopic: String, group: String, dryRun: Bool) {
        self.deadLetterTopic = deadLetterTopic
        self.group = group
        self.dryRun = dryRun
    }

    /// The offsets a redrive read in one partition of the dead-letter topic.
    public struct PartitionProgress: Sendable, Hashable {
        /// The partition of the dead-letter topic.
        public var partition: Int
        /// The first offset read: the group's committed offset, or the log start.
        public var fromOffset: Int64
        /// The offset after the last one read: what the group committed (not with `dryRun`),
        /// where its next run starts.
        public var nextOffset: Int64

        /// Progress with every field given.
        public init(partition: Int, fromOffset: Int64, nextOffset: Int64) {
            self.partition = partition
            self.fromOffset = fromOffset
            self.nextOffset = nextOffset
        }
    }
}

/// One dead letter a redrive appended to its origin topic, or with `dryRun` would append.
public struct RedrivenDeadLetter: Sendable, Hashable {
    /// What the append did.
    public enum Outcome: Sendable, Hashable {
        /// Appended at this offset of ``RedrivenDeadLetter/partition``.
        case appended(offset: Int64)
        /// Not appended: the origin topic's de-duplication window holds this redrive of the
        /// message already (a run before it appended it, but crashed before committing).
        case duplicate(partition: Int, offset: Int64)
        /// A dry run: nothing was appended.
        case wouldAppend
    }

    /// The dead letter as read.
    public var deadLetter: DeadLetter
    /// The origin topic's partition it goes to: its origin partition, when the topic has one of
    /// that number (else the key's partition, or 0 for a record without a key).
    public var partition: Int
    /// Whether it was appended, found already there, or only planned.
    public var outcome: Outcome

    /// A redriven dead letter with every field given.
    public init(deadLetter: DeadLetter, partition: Int, outcome: Outcome) {
        self.deadLetter = deadLetter
        self.partition = partition
        self.outcome = outcome
    }
}

/// A record of a dead-letter topic that a redrive passed over because it is not a valid dead
/// letter of the topic.
public struct SkippedDeadLetter: Sendable, Equatable {
    /// Where the record lies in the dead-letter topic.
    public var partition: Int
    /// Its offset in the dead-letter topic.
    public var offset: Int64
    /// `.invalidDeadLetter`, saying which header is missing or wrong.
    public var error: StreamStoreError

    /// A skipped record with every field given.
    public init(partition: Int, offset: Int64, error: StreamStoreError) {
        self.partition = partition
        self.offset = offset
        self.error = error
    }
}
