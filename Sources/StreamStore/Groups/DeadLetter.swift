import StreamStoreFormat
import StreamStoreLog
/// The headers a dead letter carries about its failure. All start with
/// ``DeadLetter/headerPrefix``; redrive removes every header that does.
extension HeaderName {
    /// The topic the record failed in.
    public static let deadLetterOriginTopic: HeaderName = "dlq-origin-topic"
    /// Its partition there, in decimal.
    public static let deadLetterOriginPartition: HeaderName = "dlq-origin-partition"
    /// Its offset there, in decimal.
    public static let deadLetterOriginOffset: HeaderName = "dlq-origin-offset"
    /// Its timestamp there (milliseconds since the Unix epoch), in decimal.
    public static let deadLetterOriginTimestamp: HeaderName = "dlq-origin-timestamp"
    /// The consumer group that failed to process it.
    public static let deadLetterGroup: HeaderName = "dlq-group"
    /// The description of the last error (at most ``/StreamStoreFormat/Limits/maxDeadLetterErrorBytes``).
    public static let deadLetterError: HeaderName = "dlq-error"
    /// How many times the handler ran on it, in decimal.
    public static let deadLetterAttempts: HeaderName = "dlq-attempts"
    /// When it was given up on (milliseconds since the Unix epoch), in decimal.
    public static let deadLetterFailedAt: HeaderName = "dlq-failed-at"
}

/// A record of a dead-letter topic, read back with what its headers say about the failure.
///
/// A record whose handler kept failing is appended to its topic's dead-letter topic
/// (`<topic>.dlq`, ``Store/deadLetterTopic(for:)``) as a dead letter: the original key and
/// value, the original headers in their order (`message-id`, `correlation-id` and the rest,
/// `redrive-count` included), then the `dlq-*` headers of ``/StreamStoreFormat/HeaderName`` that say where it came
/// from and why it failed. A dead letter is stamped with the time it was appended (so the
/// dead-letter topic's retention counts from the failure); the original timestamp is in
/// `dlq-origin-timestamp`.
///
/// ```swift
/// for record in try store.deadLetterTopic(for: "orders").read(partition: 0, from: 0) {
///     let letter = try DeadLetter(record)
///     print(letter.originPartition, letter.originOffset, letter.attempts, letter.error)
/// }
/// ```
public struct DeadLetter: Sendable, Hashable {
    /// Every dead-letter header's name starts with this.
    public static let headerPrefix = "dlq-"
    /// What a topic's dead-letter topic is called: `<topic>` followed by this.
    public static let topicSuffix = ".dlq"
    /// The consumer group ``Store/redriveDeadLetters(topic:group:limit:dryRun:filter:)`` records
    /// its progress in unless told another.
    public static let defaultRedriveGroup = "dlq-redrive"

    /// The record as read from the dead-letter topic (its offset is the dead letter's).
    public var record: StoredRecord
    /// The topic the record failed in (`dlq-origin-topic`).
    public var originTopic: String
    /// Its partition there (`dlq-origin-partition`).
    public var originPartition: Int
    /// Its offset there (`dlq-origin-offset`).
    public var originOffset: Int64
    /// The original record's timestamp, when the dead letter says (ms since the Unix epoch).
    public var originTimestamp: Int64?
    /// The group that failed to process it, when the dead letter says.
    public var group: String?
    /// The description of the last error.
    public var error: String
    /// How many times the handler ran on the record.
    public var attempts: Int
    /// When the record was given up on (ms since the Unix epoch).
    public var failedAtMilliseconds: Int64
    /// How many times the record had been redriven before it failed this time.
    public var redriveCount: Int

    /// The name of `topic`'s dead-letter topic.
    public static func topicName(for topic: String) -> String { topic + topicSuffix }

    /// Reads the dead-letter headers of `record`; `.invalidDeadLetter` (naming the header) when
    /// one that must be there is missing or malformed.
    public init(_ record: StoredRecord) throws(StreamStoreError) {
        func invalid(_ problem: String) -> StreamStoreError {
            StreamStoreError(
                .invalidDeadLetter, "The record at offset \(record.offset) is not a dead letter: \(problem).", partition: record.partition,
                offset: record.offset)
        }
        func text(_ name: HeaderName) throws(StreamStoreError) -> String {
            guard let header = record.header(name.rawValue) else { throw invalid("it has no \(name) header") }
            guard let value = header.stringValue else { throw invalid("its \(name) header is null or not UTF-8") }
            return value
        }
        func number(_ name: HeaderName, atLeast minimum: Int64 = .min) throws(StreamStoreError) -> Int64 {
            let value = try text(name)
            guard let number = Int64(value), number >= minimum else {
                throw invalid("its \(name) header is \"\(value)\", not " + (minimum == .min ? "a number" : "a number of at least \(minimum)"))
            }
            return number
        }
        self.record = record
        originTopic = try text(.deadLetterOriginTopic)
        guard FileNames.isValidTopicName(originTopic) else { throw invalid("its \(HeaderName.deadLetterOriginTopic) header \"\(originTopic)\" is not a topic name") }
        originPartition = Int(try number(.deadLetterOriginPartition, atLeast: 0))
        originOffset = try number(.deadLetterOriginOffset, atLeast: 0)
        attempts = Int(try number(.deadLetterAttempts, atLeast: 1))
        failedAtMilliseconds = try number(.deadLetterFailedAt)
        error = try text(.deadLetterError)
        originTimestamp = record.headerString(.deadLetterOriginTimestamp).flatMap { Int64($0) }
        group = record.headerString(.deadLetterGroup)
        if let count = record.header(HeaderName.redriveCount.rawValue) {
            guard let parsed = HeaderName.redriveCount(count.value) else {
                throw invalid("its \(HeaderName.redriveCount) header is \"\(count.stringValue ?? "null")\", not a positive number")
            }
            redriveCount = parsed
        } else {
            redriveCount = 0
        }
    }

    /// The record redrive appends to the origin topic: the original key, value and headers,
    /// without the `dlq-*` ones, and `redrive-count` one more than before. Its timestamp is
    /// left to the append (a redrive is a new append; an old timestamp would let retention take
    /// it before it is processed).
    public var redriveRecord: Record {
        var redriven = Record(
            key: record.key.map(Array.init), value: record.value.map(Array.init),
            headers: record.headers.filter { !$0.key.hasPrefix(DeadLetter.headerPrefix) })
        redriven.setHeader(.redriveCount, String(redriveCount + 1))
        return redriven
    }

    /// The dead letter of `failed`, a record of `originTopic` that group `group` gave up on
    /// after `attempts` runs that ended in `error`.
    static func record(
        for failed: StoredRecord, originTopic: String, group: String, error: String, attempts: Int, failedAtMilliseconds: Int64
    ) -> Record {
        var headers = failed.headers.filter { !$0.key.hasPrefix(DeadLetter.headerPrefix) }
        headers += [
            RecordHeader(.deadLetterOriginTopic, originTopic),
            RecordHeader(.deadLetterOriginPartition, String(failed.partition)),
            RecordHeader(.deadLetterOriginOffset, String(failed.offset)),
            RecordHeader(.deadLetterOriginTimestamp, String(failed.timestamp)),
            RecordHeader(.deadLetterGroup, group),
            RecordHeader(.deadLetterError, errorText(error)),
            RecordHeader(.deadLetterAttempts, String(attempts)),
            RecordHeader(.deadLetterFailedAt, String(failedAtMilliseconds)),
        ]
        return Record(key: failed.key.map(Array.init), value: failed.value.map(Array.init), headers: headers)
    }

    /// `description` cut to ``/StreamStoreFormat/Limits/maxDeadLetterErrorBytes`` at a character boundary.
    static func errorText(_ description: String) -> String {
        guard description.utf8.count > Limits.maxDeadLetterErrorBytes else { return description }
        let ellipsis = "…"
        var kept = ""
        var bytes = ellipsis.utf8.count
        for character in description {
            bytes += character.utf8.count
            guard bytes <= Limits.maxDeadLetterErrorBytes else { break }
            kept.append(character)
        }
        return kept + ellipsis
    }
}
