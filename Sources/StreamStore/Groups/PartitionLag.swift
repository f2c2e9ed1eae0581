import StreamStoreFormat
import StreamStoreLog
/// How far a consumer group is behind on one partition.
public struct PartitionLag: Sendable, Equatable, Hashable, Codable {
    /// The topic of the partition.
    public var topic: String
    /// The partition's number.
    public var partition: Int
    /// The next offset the group will process, or nil when it never committed this partition.
    public var committedOffset: Int64?
    /// When that commit was made (milliseconds since the epoch), or nil.
    public var committedMilliseconds: Int64?
    /// The partition's first offset still kept.
    public var logStartOffset: Int64
    /// The offset the partition's next record will get.
    public var logEndOffset: Int64
    /// Records not yet processed: from the committed offset (or the log start, when nothing is
    /// committed or retention removed what was) to the log end.
    public var lagRecords: Int64
    /// Age of the oldest unprocessed record: now minus its timestamp; 0 when caught up.
    public var lagMilliseconds: Int64
    /// True when retention removed records the group had not processed: its committed offset
    /// is below the log start, so those records are gone for it.
    public var committedBelowLogStart: Bool
}
