import StreamStoreFormat
/// What an append assigned: the offsets of the records it wrote, and where the records it did
/// not write (because the store had them already) lie.
///
/// Without de-duplication every record of the batch is written, `duplicates` is empty and the
/// batch's records have the offsets `baseOffset...lastOffset` in order. With it, records found
/// to be retries are left out: the written ones keep their order and take consecutive offsets,
/// and ``offset(ofRecordAt:)`` says where each record of the batch as given now lies.
public struct AppendReceipt: Sendable, Equatable, Hashable {
    /// The partition the batch went to.
    public var partition: Int
    /// Offset of the first record written. When nothing was written (every record a
    /// duplicate) this is the partition's log end and ``recordCount`` is 0.
    public var baseOffset: Int64
    /// Offset of the last record written (`baseOffset - 1` when nothing was written).
    public var lastOffset: Int64
    /// The batch's timestamp: the append time, or the newest create time it carried.
    public var timestamp: Int64
    /// Records of the batch that were not written because they had been appended before,
    /// in batch order.
    public var duplicates: [DuplicateRecord]

    /// A receipt; the store makes these, tests and tools may too.
    public init(partition: Int, baseOffset: Int64, lastOffset: Int64, timestamp: Int64, duplicates: [DuplicateRecord] = []) {
        self.partition = partition
        self.baseOffset = baseOffset
        self.lastOffset = lastOffset
        self.timestamp = timestamp
        self.duplicates = duplicates
    }

    /// Records this append wrote.
    public var recordCount: Int { Int(lastOffset - baseOffset + 1) }

    /// True when nothing was written because every record was a duplicate.
    public var isDuplicate: Bool { recordCount == 0 && !duplicates.isEmpty }

    /// Where the batch's record number `index` (0-based, in the order it was added to the batch)
    /// lies: the offset this append gave it, or its original's when it was a duplicate.
    public func offset(ofRecordAt index: Int) -> (partition: Int, offset: Int64) {
        var skipped = 0
        for duplicate in duplicates {
            if duplicate.index == index { return (duplicate.originalPartition, duplicate.originalOffset) }
            if duplicate.index > index { break }
            skipped += 1
        }
        return (partition, baseOffset + Int64(index - skipped))
    }
}

/// One record an append left out because the store already had it.
public struct DuplicateRecord: Sendable, Equatable, Hashable {
    /// Why the record counts as a duplicate.
    public enum Reason: Sendable, Equatable, Hashable {
        /// Its `message-id` header was appended to the topic within the de-duplication window
        /// (`TopicConfig.dedupeWindowMilliseconds`).
        case messageID(String)
        /// Its batch repeats an idempotent producer's batch (same producer id, epoch and
        /// sequence range) that is already in the partition.
        case producerSequence
    }

    /// The record's position in the batch as given.
    public var index: Int
    /// Why the record was left out.
    public var reason: Reason
    /// Where the record appended earlier lies.
    public var originalPartition: Int
    /// The offset of the record appended earlier, in ``originalPartition``.
    public var originalOffset: Int64

    /// A duplicate; the store makes these, tests and tools may too.
    public init(index: Int, reason: Reason, originalPartition: Int, originalOffset: Int64) {
        self.index = index
        self.reason = reason
        self.originalPartition = originalPartition
        self.originalOffset = originalOffset
    }
}
