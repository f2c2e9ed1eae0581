import StreamStoreFormat

/// Memory a caller owns that ``Partition/readStoredBatches(from:maxBytes:into:)`` reads stored
/// batches straight into (a Kafka fetch response's buffer), so the log's bytes are copied once,
/// from the file, and checked where they land.
package protocol StoredBatchSink {
    /// Bytes in the sink so far.
    var count: Int { get }
    /// Appends up to `capacity` bytes: `fill` writes them into fresh memory and returns how
    /// many it wrote.
    mutating func append(capacity: Int, _ fill: (UnsafeMutableRawBufferPointer) throws(StreamStoreError) -> Int) throws(StreamStoreError)
    /// Calls `body` with the bytes from `start` to the end.
    func withBytes<Result>(from start: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result
    /// Drops every byte after the first `count`.
    mutating func truncate(to count: Int)
}

extension Partition {
    /// ``readStoredBatches(from:maxBytes:)``, read into `sink`: the same batches under the same
    /// limits (at least one whole batch when there is any, the first possibly beginning before
    /// `offset`), but each segment's run of batches is read from the file into the sink in one
    /// read and checked there (length, magic, dense offsets, CRC32C), instead of being read into
    /// the reader's buffer and copied out. Anything unusual (a damaged batch first, an index entry
    /// past the offset) is left to the checked walk, whose bytes are then copied into the sink.
    /// Returns the log start and the end readers can see.
    package func readStoredBatches<Sink: StoredBatchSink>(
        from offset: Int64, maxBytes: Int, into sink: inout Sink
    ) throws(StreamStoreError) -> (logStartOffset: Int64, logEndOffset: Int64) {
        let start = sink.count
        return try forEachReadableSegment(from: offset) { (segment, limit, current) throws(StreamStoreError) -> Bool in
            let used = sink.count - start
            if used > 0 && used >= maxBytes { return false }
            if let inPlace = try readInPlace(segment, limit: limit, from: &current, maxBytes: maxBytes - used, mustTakeOne: used == 0, into: &sink) {
                return inPlace
            }
            var copied: [UInt8] = []
            let complete = try copyBatches(of: segment, limit: limit, from: &current, maxBytes: maxBytes - used, into: &copied)
            if used > 0 && copied.count > maxBytes - used { return false }
            try sink.append(capacity: copied.count) { (buffer) throws(StreamStoreError) -> Int in
                copied.withUnsafeBytes { buffer.copyMemory(from: $0) }
                return copied.count
            }
            return complete
        }
    }

    /// One segment's batches from `current` on, read into `sink` and checked there. True when
    /// the segment's readable end was reached, false when the budget (or a damaged batch after
    /// good ones) stopped it, nil to leave this segment to the checked walk.
    private func readInPlace<Sink: StoredBatchSink>(
        _ segment: Segment, limit: Int64, from current: inout Int64, maxBytes: Int, mustTakeOne: Bool, into sink: inout Sink
    ) throws(StreamStoreError) -> Bool? {
        let files = try segment.openFiles()
        let floor = files.offsetIndex.position(floorOf: current)
        let hinted = readHints.withLock { $0.position(segmentBaseOffset: segment.baseOffset, offset: current, floor: floor, end: limit) }
        let startedAt = hinted ?? floor
        // Headers only, up to the batch holding `current` (none when a hint put us on it).
        var position = startedAt
        var first: BatchHeader
        while true {
            if position >= limit { return position == limit ? true : nil }
            guard limit - position >= Int64(BatchHeader.size), let header = try header(in: files.log, at: position), header.baseOffset <= current else {
                return nil
            }
            if header.nextOffset > current {
                first = header
                break
            }
            position += Int64(header.totalBytes)
        }
        let wanted = mustTakeOne ? max(maxBytes, first.totalBytes) : maxBytes
        let readBytes = Int(min(Int64(wanted), limit - position))
        guard readBytes >= first.totalBytes else { return mustTakeOne ? nil : false }
        let before = sink.count
        try sink.append(capacity: readBytes) { (buffer) throws(StreamStoreError) -> Int in try files.log.read(into: buffer, at: position) }
        let (checked, next, damaged) = sink.withBytes(from: before) { Self.checkBatches($0, expecting: first.baseOffset) }
        if checked == 0 {
            // The first batch is damaged, or the file was shorter than its header said.
            sink.truncate(to: before)
            return nil
        }
        sink.truncate(to: before + checked)
        current = next
        let reached = ReadHints.Hint(segmentBaseOffset: segment.baseOffset, offset: next, position: position + Int64(checked))
        readHints.withLock { $0.remember(reached, replacing: startedAt) }
        return damaged ? false : position + Int64(checked) >= limit
    }

    /// The header of the batch at `position`, if it looks like one.
    private func header(in file: File, at position: Int64) throws(StreamStoreError) -> BatchHeader? {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: BatchHeader.size, alignment: 8)
        defer { bytes.deallocate() }
        guard try file.read(into: bytes, at: position) == BatchHeader.size else { return nil }
        let header = BatchHeader(loadingFrom: UnsafeRawBufferPointer(bytes))
        guard Self.isPlausible(header) else { return nil }
        return header
    }

    private static func isPlausible(_ header: BatchHeader) -> Bool {
        header.magic == BatchHeader.magicValue && header.batchLength >= Int32(BatchHeader.size - BatchHeader.lengthPrefixSize)
            && header.totalBytes <= Limits.maxBatchBytes && header.lastOffsetDelta >= 0 && header.baseOffset >= 0
    }

    /// Whole batches at the start of `bytes` that pass the reader's checks: their bytes, the
    /// offset after the last, and whether a damaged batch (rather than the end of `bytes`) ended them.
    static func checkBatches(_ bytes: UnsafeRawBufferPointer, expecting firstOffset: Int64) -> (bytes: Int, nextOffset: Int64, damaged: Bool) {
        guard let base = bytes.baseAddress else { return (0, firstOffset, false) }
        var position = 0
        var expected = firstOffset
        while bytes.count - position >= BatchHeader.size {
            let header = BatchHeader(loadingFrom: base + position)
            guard isPlausible(header), header.baseOffset == expected else { return (position, expected, true) }
            guard header.totalBytes <= bytes.count - position else { break }
            let covered = UnsafeRawBufferPointer(start: base + position + BatchHeader.Field.attributes, count: header.totalBytes - BatchHeader.Field.attributes)
            guard CRC32C.checksum(covered) == header.crc else { return (position, expected, true) }
            expected = header.nextOffset
            position += header.totalBytes
        }
        return (position, expected, false)
    }
}
