import StreamStoreFormat
import StreamStoreLog
/// What ``Store/trace(correlationID:topics:)`` found: every record of one correlation id, oldest
/// first, with each consumer group's progress past it, and what the search cost.
public struct TraceReport: Sendable, Equatable {
    /// The id traced: the value of the records' `correlation-id` header.
    public var correlationID: String
    /// The records, ordered by timestamp, then topic, partition and offset. Empty when no record
    /// kept in the store has the id.
    public var records: [TracedRecord]
    /// What the trace read and skipped.
    public var statistics: TraceStatistics
    /// Parts of the log the trace could not read, as sentences (a corrupt batch, a codec
    /// StreamStore does not read): records there are not in ``records``. Empty normally;
    /// `stream-tool verify` says more.
    public var problems: [String]

    /// The consumer groups that consume a topic of the records found, sorted by name.
    public var groupNames: [String] {
        Set(records.flatMap { $0.groups.map(\.group) }).sorted()
    }
}

/// One record of a trace. Its value is not read out, only its size: a trace shows where an event
/// went; ``Topic/read(partition:from:maxBytes:)`` at ``offset`` gives the whole record.
public struct TracedRecord: Sendable, Equatable, HeaderCarrying {
    /// The record's topic.
    public var topic: String
    /// The record's partition.
    public var partition: Int
    /// The record's offset.
    public var offset: Int64
    /// Milliseconds since the Unix epoch: the append time, or the producer's create time.
    public var timestamp: Int64
    /// The key, or nil for a null key.
    public var key: [UInt8]?
    /// Every header, in order; ``/StreamStoreFormat/HeaderCarrying`` reads the well-known ones (``eventType``,
    /// ``messageID``, ``causationID``, …).
    public var headers: [RecordHeader]
    /// Size of the value in bytes, or nil for a null value (a tombstone).
    public var valueByteCount: Int?
    /// One entry per consumer group that committed offsets for this record's topic, sorted by
    /// group name.
    public var groups: [GroupProgress]

    /// The key as UTF-8 text (invalid sequences replaced), or nil for a null key.
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }

    /// A traced record; the store makes these, tests and tools may too.
    public init(
        topic: String, partition: Int, offset: Int64, timestamp: Int64, key: [UInt8]?, headers: [RecordHeader], valueByteCount: Int?,
        groups: [GroupProgress] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.headers = headers
        self.valueByteCount = valueByteCount
        self.groups = groups
    }
}

/// Whether one consumer group has processed one record.
public struct GroupProgress: Sendable, Equatable {
    /// The consumer group's name.
    public var group: String
    /// The group's committed offset on the record's partition (the next offset it processes),
    /// or nil when it never committed that partition.
    public var committedOffset: Int64?
    /// True once the group committed past the record: its committed offset is greater than the
    /// record's offset. At-least-once: a group may have handled a record it has not committed.
    public var processed: Bool

    /// One group's progress; the store makes these, tests and tools may too.
    public init(group: String, committedOffset: Int64?, processed: Bool) {
        self.group = group
        self.committedOffset = committedOffset
        self.processed = processed
    }
}

/// What one trace read. A sealed segment whose correlation filter denies the id is skipped
/// without reading its log; every other segment is scanned (the active one always).
public struct TraceStatistics: Sendable, Equatable {
    /// Segments whose log was read: active segments, sealed ones whose filter may hold the id,
    /// and sealed ones without a usable filter.
    public var segmentsScanned = 0
    /// Sealed segments skipped because their filter denies the id.
    public var segmentsSkippedByFilter = 0
    /// Sealed segments scanned because their filter was missing, stale or corrupt (also counted
    /// in ``segmentsScanned``).
    public var segmentsWithoutUsableFilter = 0
    /// Filters the trace wrote for such segments, from the scan it made anyway.
    public var filtersWritten = 0
    /// Bytes read from disk (or the page cache): logs scanned and filter files.
    public var bytesRead: Int64 = 0
    /// How long the trace took, groups included.
    public var elapsed: Duration = .zero

    /// Statistics of nothing read yet.
    public init() {}
}
