import StreamStoreFormat

/// The settings one partition's log works by: when segments roll, how dense the indexes are, when
/// data is forced to disk, how batches are compressed, what retention and de-duplication keep.
///
/// The log reads them afresh for each append (``PartitionContext/config``), so a changed setting
/// takes effect on the next batch. The store layer keeps them per topic, beside the partition
/// count the log never needs.
package struct LogConfig: Sendable, Equatable {
    package var segmentBytes: Int
    package var segmentMilliseconds: Int64
    package var indexIntervalBytes: Int
    package var maxIndexBytes: Int
    package var flush: FlushPolicy
    package var maxTimestampSkewMilliseconds: Int64
    package var compression: Compression
    package var retentionMilliseconds: Int64?
    package var retentionBytes: Int64?
    package var dedupeWindowMilliseconds: Int64?
    package var dedupeMaxMessageIDs: Int

    package init(
        segmentBytes: Int, segmentMilliseconds: Int64, indexIntervalBytes: Int, maxIndexBytes: Int, flush: FlushPolicy,
        maxTimestampSkewMilliseconds: Int64, compression: Compression, retentionMilliseconds: Int64?, retentionBytes: Int64?,
        dedupeWindowMilliseconds: Int64?, dedupeMaxMessageIDs: Int
    ) {
        self.segmentBytes = segmentBytes
        self.segmentMilliseconds = segmentMilliseconds
        self.indexIntervalBytes = indexIntervalBytes
        self.maxIndexBytes = maxIndexBytes
        self.flush = flush
        self.maxTimestampSkewMilliseconds = maxTimestampSkewMilliseconds
        self.compression = compression
        self.retentionMilliseconds = retentionMilliseconds
        self.retentionBytes = retentionBytes
        self.dedupeWindowMilliseconds = dedupeWindowMilliseconds
        self.dedupeMaxMessageIDs = dedupeMaxMessageIDs
    }
}
