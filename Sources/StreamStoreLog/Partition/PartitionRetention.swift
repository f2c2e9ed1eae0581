/// What one retention run did (or, for a dry run, would do) to one partition.
public struct PartitionRetention: Sendable, Equatable, Codable {
    /// The topic of the partition.
    public var topic: String
    /// The partition's number.
    public var partition: Int
    /// The log start offset before the run.
    public var logStartOffsetBefore: Int64
    /// The log start offset after the run (unchanged by a dry run).
    public var logStartOffset: Int64
    /// The segments deleted (or that would be), oldest first.
    public var deleted: [SegmentRetention]
    /// The segments kept, each with what keeps it.
    public var kept: [SegmentRetention]
    /// Bytes of log before and after the run.
    public var bytesBefore: Int64
    /// Bytes of log after the run (for a dry run, what would remain).
    public var bytesAfter: Int64
}

/// One segment as retention judged it.
public struct SegmentRetention: Sendable, Equatable, Codable {
    /// The offset of the segment's first record, which names its files.
    public var baseOffset: Int64
    /// The offset after the segment's last record.
    public var nextOffset: Int64
    /// Bytes of the segment's `.log` file.
    public var sizeBytes: Int64
    /// The newest record timestamp in the segment (ms), or nil for an empty segment.
    public var maxTimestamp: Int64?
    /// Why it goes (`"time"`, `"size"`) or, when kept, what keeps it.
    public var reason: String
}
