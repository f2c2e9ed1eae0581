import StreamStoreFormat

/// Whole batches as they lie in the log, copied out by the checked walk: compressed batches stay
/// compressed, and nothing is decoded. A server answers from
/// ``Partition/readStoredBatches(from:maxBytes:into:)`` instead, which reads them straight into
/// its buffer; this is the reference its tests compare with, and its fallback.
package struct StoredBatchBytes {
    /// Whole batches, back to back; the first may begin before the offset asked for.
    package var bytes: [UInt8]
    package var logStartOffset: Int64
    /// The end readers can see (for `.everyAppend` topics, the durable end).
    package var logEndOffset: Int64
}

extension Partition {
    /// The stored batches holding offsets from `offset` on, at most `maxBytes` of them but at
    /// least one whole batch when there is any, so a reader always makes progress. Empty at the
    /// log end; `.offsetOutOfRange` below the log start or past the end.
    package func readStoredBatches(from offset: Int64, maxBytes: Int) throws(StreamStoreError) -> StoredBatchBytes {
        var bytes: [UInt8] = []
        let ends = try forEachReadableSegment(from: offset) { (segment, limit, current) throws(StreamStoreError) -> Bool in
            try copyBatches(of: segment, limit: limit, from: &current, maxBytes: maxBytes, into: &bytes)
        }
        return StoredBatchBytes(bytes: bytes, logStartOffset: ends.logStartOffset, logEndOffset: ends.logEndOffset)
    }

    /// Calls `read` with each segment that holds readable offsets from `offset` on, in order,
    /// with its readable end and the offset reached so far (which `read` advances), until it
    /// returns false or the readable end is reached. Returns the log start and the end readers
    /// can see; `.offsetOutOfRange` below the log start or past the end.
    func forEachReadableSegment(
        from offset: Int64, _ read: (Segment, _ limit: Int64, _ current: inout Int64) throws(StreamStoreError) -> Bool
    ) throws(StreamStoreError) -> (logStartOffset: Int64, logEndOffset: Int64) {
        let (segments, visible, logStart) = lock.withLock { (self.segments, self.visible, logStartOffset) }
        guard offset >= logStart, offset <= visible.offset else {
            throw StreamStoreError(
                .offsetOutOfRange, "Offset \(offset) is outside the partition's offsets \(logStart)...\(visible.offset).",
                topic: topic, partition: id, offset: offset)
        }
        var current = offset
        var segmentIndex = segments.lastIndex { $0.baseOffset <= offset } ?? 0
        while segmentIndex < segments.count, current < visible.offset {
            let segment = segments[segmentIndex]
            guard segment.baseOffset <= visible.segmentBaseOffset else { break }
            let limit = segment.baseOffset == visible.segmentBaseOffset ? visible.position : try segment.sealedSize()
            guard try read(segment, limit, &current) else { break }
            segmentIndex += 1
        }
        return (logStart, visible.offset)
    }

    /// Copies the batches of one segment from `current` on into `output`; false once the
    /// budget is spent, or at a bad batch after good ones (the next read meets it).
    func copyBatches(of segment: Segment, limit: Int64, from current: inout Int64, maxBytes: Int, into output: inout [UInt8]) throws(StreamStoreError) -> Bool {
        // Past the budget by one index interval: the index points up to that far before `current`.
        let interval = context.config.indexIntervalBytes
        let budget = min(maxBytes, Int.max - interval)
        let stop = try walk(segment, to: limit, from: current, chunkBytes: budget + interval, buffers: nil) { (reader, batch) throws(StreamStoreError) -> Bool in
            if !output.isEmpty && output.count + batch.header.totalBytes > maxBytes { return false }
            reader.withBytes(of: batch) { output.append(contentsOf: $0) }
            current = batch.header.nextOffset
            reader.chunkBytes = max(budget - output.count, 0) + interval
            return true
        }
        guard let stop else { return false }
        if let error = corruption(at: stop, segment: segment) {
            guard output.isEmpty else { return false }
            throw error
        }
        return true
    }
}
