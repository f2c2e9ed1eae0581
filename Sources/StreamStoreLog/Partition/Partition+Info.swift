import StreamStoreFormat

/// A partition at a glance, for `describe` and monitoring.
public struct PartitionInfo: Sendable, Equatable {
    /// The partition's number.
    public var partition: Int
    /// The first offset still kept.
    public var logStartOffset: Int64
    /// The offset the next record appended will get (readers see records below it).
    public var logEndOffset: Int64
    /// Segments on disk, the active one included.
    public var segmentCount: Int
    /// Bytes of all `.log` files.
    public var logBytes: Int64
    /// What the batches would take uncompressed (equal to ``logBytes`` when nothing is
    /// compressed); from each batch's header and its zstd frame header, without decompressing.
    public var uncompressedBytes: Int64
    /// `uncompressedBytes / logBytes` (1 when nothing is compressed).
    public var compressionRatio: Double { logBytes > 0 ? Double(uncompressedBytes) / Double(logBytes) : 1 }
    /// Timestamp of the first record kept, nil when the partition is empty.
    public var firstTimestamp: Int64?
    /// Largest record timestamp, nil when the partition is empty.
    public var lastTimestamp: Int64?
}

extension Partition {
    package func info() throws(StreamStoreError) -> PartitionInfo {
        let (segments, logStart, logEnd, activeBytes, activeMax) = lock.withLock {
            (self.segments, logStartOffset, visible.offset, activeSizeBytes, cadence.maxTimestamp)
        }
        var bytes = activeBytes
        var newest: Int64?
        for segment in segments.dropLast() {
            bytes += try segment.sealedSize()
            let value = try segment.sealedMaxTimestamp()
            if value >= 0 { newest = max(newest ?? value, value) }
        }
        if activeMax > Int64.min { newest = max(newest ?? activeMax, activeMax) }
        // The first timestamp needs the first batch; a corrupt one leaves it unknown rather than
        // hiding the rest of the partition's facts.
        var first: Int64?
        if logStart < logEnd, let batch = try? readBatches(from: logStart, maxBytes: 1).first {
            try? batch.forEachRecord(from: logStart) { record in if first == nil { first = record.timestamp } }
        }
        var uncompressed: Int64 = 0
        for (index, segment) in segments.enumerated() {
            let limit = index == segments.count - 1 ? activeBytes : try segment.sealedSize()
            uncompressed += try uncompressedBytes(of: segment, limit: limit)
        }
        return PartitionInfo(
            partition: id, logStartOffset: logStart, logEndOffset: logEnd, segmentCount: segments.count, logBytes: bytes,
            uncompressedBytes: uncompressed, firstTimestamp: first, lastTimestamp: logStart < logEnd ? newest : nil)
    }

    /// Walks a segment's batch headers (one small read per batch, no CRC check: this is a
    /// statistic) and adds up their uncompressed sizes. Stops quietly at anything unreadable.
    private func uncompressedBytes(of segment: Segment, limit: Int64) throws(StreamStoreError) -> Int64 {
        let files = try segment.openFiles()
        let probeBytes = BatchHeader.size + 18  // a zstd frame header is at most 18 bytes
        var buffer = [UInt8](repeating: 0, count: probeBytes)
        var position: Int64 = 0
        var total: Int64 = 0
        while position < limit {
            let got = try withMutableBytes(&buffer) { (raw) throws(StreamStoreError) in try files.log.read(into: raw, at: position) }
            guard got >= BatchHeader.size else { break }
            let header = buffer.withUnsafeBytes { BatchHeader(loadingFrom: $0.baseAddress!) }
            let size = Int64(header.totalBytes)
            guard header.batchLength > 0, position + size <= limit else { break }
            if header.compressionCodec == Int(Compression.zstdCodecID) {
                let content = buffer.withUnsafeBytes { raw in
                    ZstdFrame.contentSize(UnsafeRawBufferPointer(rebasing: raw[BatchHeader.size..<got]))
                }
                total += Int64(BatchHeader.size) + (content ?? (size - Int64(BatchHeader.size)))
            } else {
                total += size
            }
            position += size
        }
        return total
    }
}
