import StreamStoreFormat

/// Whole batches as they lie in the log, for a server that hands them on unchanged (a Kafka
/// Fetch answer): compressed batches stay compressed, and nothing is decoded.
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
        let (segments, visible, logStart) = lock.withLock { (self.segments, self.visible, logStartOffset) }
        guard offset >= logStart, offset <= visible.offset else {
            throw StreamStoreError(
                .offsetOutOfRange, "Offset \(offset) is outside the partition's offsets \(logStart)...\(visible.offset).",
                topic: topic, partition: id, offset: offset)
        }
        var result = StoredBatchBytes(bytes: [], logStartOffset: logStart, logEndOffset: visible.offset)
        var current = offset
        var segmentIndex = segments.lastIndex { $0.baseOffset <= offset } ?? 0
        while segmentIndex < segments.count, current < visible.offset {
            let segment = segments[segmentIndex]
            guard segment.baseOffset <= visible.segmentBaseOffset else { break }
            let limit = segment.baseOffset == visible.segmentBaseOffset ? visible.position : try segment.sealedSize()
            let complete = try copyBatches(of: segment, limit: limit, from: &current, maxBytes: maxBytes, into: &result.bytes)
            if !complete { break }
            segmentIndex += 1
        }
        return result
    }

    /// Copies the batches of one segment from `current` on into `output`; false once the
    /// budget is spent. The offset index only says where to start looking: when the bytes
    /// there are not a batch at or before `current`, the segment is walked from its start.
    private func copyBatches(of segment: Segment, limit: Int64, from current: inout Int64, maxBytes: Int, into output: inout [UInt8]) throws(StreamStoreError) -> Bool {
        let files = try segment.openFiles()
        var position = files.offsetIndex.position(floorOf: current)
        var trustingIndex = position > 0
        let interval = Int64(context.config.indexIntervalBytes)
        while position < limit {
            let budget = Int64(max(maxBytes - output.count, 0))
            if budget == 0 && !output.isEmpty { return false }
            let want = Int(min(limit - position, budget + interval + Int64(BatchHeader.size)))
            let chunk = try readChunk(files.log, at: position, count: want)
            var cursor = 0
            while cursor + BatchHeader.size <= chunk.count {
                let header = chunk.withUnsafeBytes { raw in BatchHeader(loadingFrom: raw.baseAddress.unsafelyUnwrapped + cursor) }
                let total = header.totalBytes
                let sane = header.magic == BatchHeader.magicValue && total >= BatchHeader.size && total <= Limits.maxBatchBytes
                    && position + Int64(cursor + total) <= limit
                if trustingIndex {
                    trustingIndex = false
                    if !sane || header.baseOffset > current {
                        position = 0
                        cursor = -1
                        break
                    }
                }
                guard sane else {
                    throw StreamStoreError(
                        .corruptBatch, "The log holds no whole batch at byte \(position + Int64(cursor)); run `stream-tool verify`.",
                        path: segment.logPath, topic: topic, partition: id)
                }
                if header.nextOffset <= current {
                    cursor += total
                    continue
                }
                if !output.isEmpty && output.count + total > maxBytes { return false }
                if cursor + total <= chunk.count {
                    output.append(contentsOf: chunk[cursor..<(cursor + total)])
                } else {
                    // A batch longer than what was read: read it whole.
                    output.append(contentsOf: try readChunk(files.log, at: position + Int64(cursor), count: total))
                }
                current = header.nextOffset
                cursor += total
            }
            if cursor < 0 { continue }
            guard cursor > 0 else {
                throw StreamStoreError(
                    .corruptBatch, "The log ends inside a batch header at byte \(position); run `stream-tool verify`.",
                    path: segment.logPath, topic: topic, partition: id)
            }
            position += Int64(cursor)
        }
        return true
    }

    private func readChunk(_ file: File, at position: Int64, count: Int) throws(StreamStoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let filled = try withMutableBytes(&bytes) { (raw) throws(StreamStoreError) -> Int in try file.read(into: raw, at: position) }
        if filled < count { bytes.removeSubrange(filled...) }
        return bytes
    }
}
