import StreamStoreFormat
import StreamStoreLog

/// When a ``Consumer`` commits on its own what its ``Consumer/records`` loop has processed
/// (Kafka's `enable.auto.commit`).
///
/// A record counts as processed once the loop asks for the next one (or ends), so an automatic
/// commit never covers a record whose handling is still under way: delivery stays
/// at-least-once. Each commit is one frame for all the member's partitions, fsynced under the
/// topic's flush policy, so how often it commits is what it costs (README, "Consumer groups").
///
/// ```swift
/// // Commit every 1,000 records, at least every second, and whenever a read's records are done.
/// let options = ConsumerOptions(commitPolicy: .automatic(everyRecords: 1_000, everyMilliseconds: 1_000))
/// ```
public struct CommitPolicy: Sendable, Equatable, Hashable {
    /// Commit once this many records were processed since the last commit (nil: not by count).
    public var everyRecords: Int?
    /// Commit once this long has passed since the last commit, in milliseconds, checked as
    /// records are processed (nil: not by time).
    public var everyMilliseconds: Int64?
    /// Commit when the records of one read (up to `maxBytesPerRead` of a partition) are all
    /// processed.
    public var atEndOfRead: Bool
    /// Whether the consumer commits on its own at all.
    public var isAutomatic: Bool

    /// Only ``Consumer/commit(_:)`` and its kin commit: the default, as before.
    public static let manual = CommitPolicy(everyRecords: nil, everyMilliseconds: nil, atEndOfRead: false, isAutomatic: false)

    /// Commits what was processed after `everyRecords` records, after `everyMilliseconds`, at
    /// the end of each read when `atEndOfRead`, before the consumer waits at the log end, when a
    /// finite consumption ends, and when the consumer closes.
    public static func automatic(everyRecords: Int? = 1_000, everyMilliseconds: Int64? = 5_000, atEndOfRead: Bool = false) -> CommitPolicy {
        CommitPolicy(everyRecords: everyRecords, everyMilliseconds: everyMilliseconds, atEndOfRead: atEndOfRead, isAutomatic: true)
    }

    /// Throws `.invalidConfig` for a count or interval below 1.
    public func validate() throws(StreamStoreError) {
        if let everyRecords, everyRecords < 1 {
            throw StreamStoreError(.invalidConfig, "everyRecords must be at least 1, not \(everyRecords).")
        }
        if let everyMilliseconds, everyMilliseconds < 1 {
            throw StreamStoreError(.invalidConfig, "everyMilliseconds must be at least 1, not \(everyMilliseconds).")
        }
    }
}

/// Where a finite consumption (``Consumer/records(until:)``) stops.
public enum ConsumerStop: Sendable, Equatable, Hashable {
    /// The log end each partition has when the member starts reading it: a batch job that
    /// processes what is there and ends.
    case end
}

/// What an automatically committing consumer has processed and not yet committed.
struct AutoCommitState {
    /// Next offsets to commit, per partition.
    var processed: [Int: Int64] = [:]
    var sinceCommit = 0
    var lastCommitMilliseconds: Int64 = 0
}
