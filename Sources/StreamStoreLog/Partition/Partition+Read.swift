import StreamStoreFormat
extension Partition {
    /// A copy of what a reader needs, taken under the lock in one step.
    private struct ReadView {
        var segments: [Segment]
        var visible: VisibleEnd
        var logStart: Int64
        var activeMaxTimestamp: Int64
    }

    private func readView() -> ReadView {
        refreshFromWriter()
        return lock.withLock { ReadView(segments: segments, visible: visible, logStart: logStartOffset, activeMaxTimestamp: cadence.maxTimestamp) }
    }

    /// Batches holding offsets from `offset` on, at most about `maxBytes` of them (at least one
    /// batch, however large, so a reader always makes progress). Empty at the log end.
    /// Compressed batches count with their decompressed size and come back decompressed.
    /// A reader that passes its `buffers` gets them reused (see ``ReadBuffers``).
    package func readBatches(from offset: Int64, maxBytes requestedBytes: Int, buffers: ReadBuffers? = nil) throws(StreamStoreError) -> [StoredBatch] {
        // Any budget works: 0 or less still reads one batch, Int.max reads to the end.
        let maxBytes = max(requestedBytes, 0)
        let view = readView()
        guard offset >= view.logStart else {
            throw StreamStoreError(
                .offsetOutOfRange, "Offset \(offset) is below the log start offset \(view.logStart); read from \(view.logStart) or later.",
                topic: topic, partition: id, offset: offset)
        }
        guard offset <= view.visible.offset else {
            throw StreamStoreError(
                .offsetOutOfRange, "Offset \(offset) is past the log end offset \(view.visible.offset).",
                topic: topic, partition: id, offset: offset)
        }
        guard offset < view.visible.offset else { return [] }
        defer { buffers?.endRead() }

        var result: [StoredBatch] = []
        // Where each compressed batch of `result` lies, for decompression after the scan.
        var compressed: [CompressedBatch] = []
        var takenBytes = 0
        var current = offset
        var segmentIndex = view.segments.lastIndex { $0.baseOffset <= offset } ?? 0
        scan: while segmentIndex < view.segments.count, current < view.visible.offset {
            let segment = view.segments[segmentIndex]
            guard segment.baseOffset <= view.visible.segmentBaseOffset else { break }
            let limit = segment.baseOffset == view.visible.segmentBaseOffset ? view.visible.position : try segment.sealedSize()
            let files = try segment.openFiles()
            var position = files.offsetIndex.position(floorOf: current)
            // The offset index only says where to start looking; an index that passed validation
            // can still be damaged. Until the bytes there prove to be a batch boundary at or before
            // the wanted offset (offsets are dense: a batch past it means the one holding it lies
            // further back), a misplaced start means reading the segment from its beginning
            // instead, never skipping records (found by FuzzIndexValidation).
            var trustingIndex = position > 0
            while position < limit {
                let budget = max(maxBytes - takenBytes, 0)
                if budget == 0 && !result.isEmpty { break scan }
                // Read past the budget by one index interval: the index points up to that far
                // before the wanted offset.
                // A reader that knows how much its batches expand (zstd) reads about the log
                // bytes its budget needs, not the budget itself; too little means another read.
                // Saturating, since a budget of Int.max means "everything".
                let interval = context.config.indexIntervalBytes
                let logBudget = buffers.map { Int(min(Double(budget) / $0.plainBytesPerLogByte * 1.25, Double(Int.max / 2))) } ?? budget
                let padded = logBudget > Int.max - interval ? Int.max : logBudget + interval
                var want = Int(min(limit - position, Int64(padded)))
                want = max(want, min(Int(limit - position), BatchHeader.size))
                var (buffer, filled) = try read(files.log, at: position, count: want, buffers: buffers)
                var parsed = BatchParser.parse(buffer, end: filled, budget: (current, max(budget, 1)))
                if parsed.batches.isEmpty, parsed.corruption == nil, let needed = parsed.incompleteBatchBytes {
                    // One batch larger than the budget: read it whole.
                    guard position + Int64(needed) <= limit else {
                        if trustingIndex {
                            (position, trustingIndex) = (0, false)
                            continue
                        }
                        throw corruption("a batch at byte \(position) runs past the end of the segment", segment: segment, position: position)
                    }
                    (buffer, filled) = try read(files.log, at: position, count: needed, buffers: buffers)
                    parsed = BatchParser.parse(buffer, end: filled, budget: (current, max(budget, 1)))
                }
                if trustingIndex {
                    trustingIndex = false
                    let landed = parsed.batches.first { $0.nextOffset > current }
                    if (parsed.batches.isEmpty && parsed.corruption != nil) || (landed.map { $0.baseOffset > current } ?? false) {
                        position = 0
                        continue
                    }
                }
                if let reason = parsed.corruption, parsed.batches.isEmpty {
                    // A whole, checksummed batch this reader cannot decode (a codec it does not
                    // read) that ends before the wanted offset is passed over, not reported: the
                    // reader wants none of it (found by FuzzSegmentRecovery).
                    let skipped = buffer.withUnsafeBytes { BatchHeader.probe(UnsafeRawBufferPointer(rebasing: $0[0..<filled]), at: parsed.consumedBytes) }
                    if case .valid(let header) = skipped, header.nextOffset <= current {
                        position += Int64(parsed.consumedBytes + header.totalBytes)
                        continue
                    }
                    // Hand out the good batches first; the next read meets the corruption.
                    if !result.isEmpty { break scan }
                    throw corruption(reason, segment: segment, position: position + Int64(parsed.consumedBytes))
                }
                guard !parsed.batches.isEmpty else {
                    throw corruption("no whole batch at byte \(position)", segment: segment, position: position)
                }
                for batch in parsed.batches where batch.nextOffset > current {
                    let plainBytes = batch.declaredPlainBytes
                    let cost = plainBytes ?? batch.byteCount
                    if !result.isEmpty && takenBytes + cost > maxBytes { break scan }
                    if batch.isCompressed {
                        let filePosition = position + Int64(batch.records.lowerBound - BatchHeader.size)
                        compressed.append(CompressedBatch(index: result.count, plainBytes: plainBytes, segment: segment, filePosition: filePosition))
                    }
                    result.append(batch)
                    takenBytes += cost
                    current = batch.nextOffset
                }
                position += Int64(parsed.consumedBytes)
            }
            segmentIndex += 1
        }
        if let buffers, takenBytes > 0 {
            let logBytes = result.reduce(0) { $0 + $1.byteCount }
            buffers.plainBytesPerLogByte = max(1, Double(takenBytes) / Double(max(logBytes, 1)))
        }
        if !compressed.isEmpty { try decompress(compressed, of: &result, buffers: buffers) }
        for index in result.indices { result[index].partition = id }
        return result
    }

    /// A compressed batch picked by a read, still to be decompressed.
    private struct CompressedBatch {
        var index: Int
        var plainBytes: Int?
        var segment: Segment
        var filePosition: Int64
        var description: String { "\(segment.logPath), byte \(filePosition)" }
    }

    /// Decompresses the picked batches: those whose frames declare their size one after the
    /// other into one buffer (the reader's, when it has one), any others each into its own.
    /// A frame that fails cuts `batches` short before its batch, so the good batches come
    /// first and the next read meets the error; it is thrown only when it is the first batch
    /// (found by FuzzSegmentRecovery).
    private func decompress(_ picked: [CompressedBatch], of batches: inout [StoredBatch], buffers: ReadBuffers?) throws(StreamStoreError) {
        let decompressor = decompressors.withLock { $0.popLast() } ?? ZstdDecompressor()
        defer { decompressors.withLock { pool in if pool.count < 4 { pool.append(decompressor) } } }
        let sized = picked.filter { $0.plainBytes != nil }
        var placed: [Range<Int>] = []
        var total = 0
        for entry in sized {
            placed.append(total..<(total + entry.plainBytes!))
            total += entry.plainBytes! + 1
        }
        // The first batch that failed, and why.
        var failure: (index: Int, error: StreamStoreError)?
        if total > 0 {
            let source = batches
            let progress = Locked(0)
            let fill = { (output: UnsafeMutableRawBufferPointer) throws(StreamStoreError) -> Int in
                for (entry, range) in zip(sized, placed) {
                    let slot = UnsafeMutableRawBufferPointer(rebasing: output[range.lowerBound..<(range.upperBound + 1)])
                    _ = try source[entry.index].decompressed(with: decompressor, into: slot, declaredSize: range.count, position: entry.description)
                    progress.withLock { $0 += 1 }
                }
                return total
            }
            // Without a reader's buffers, a fresh array; it is kept on failure too, so the
            // batches decompressed before the bad one are still handed out.
            var fresh: [UInt8] = buffers == nil ? [UInt8](unsafeUninitializedCapacity: total) { _, initialized in initialized = total } : []
            do throws(StreamStoreError) {
                if let buffers {
                    _ = try buffers.fillPlain(count: total, fill)
                } else {
                    let outcome = fresh.withUnsafeMutableBytes { raw in Result { () throws(StreamStoreError) -> Int in try fill(raw) } }
                    _ = try outcome.get()
                }
            } catch {
                failure = (sized[progress.withLock { $0 }].index, error)
            }
            let plain = buffers?.plain ?? fresh
            for (entry, range) in zip(sized, placed).prefix(progress.withLock { $0 }) {
                batches[entry.index] = batches[entry.index].withPlainRecords(in: plain, at: range)
            }
        }
        for entry in picked where entry.plainBytes == nil && entry.index < (failure?.index ?? .max) {
            do throws(StreamStoreError) {
                batches[entry.index] = try batches[entry.index].decompressed(with: decompressor, position: entry.description)
            } catch {
                failure = (entry.index, error)
                break
            }
        }
        if let failure {
            guard failure.index > 0 else { throw failure.error.with(topic: topic, partition: id) }
            batches.removeSubrange(failure.index...)
        }
    }

    /// The records from `offset` on, at most about `maxBytes` of batches. Empty only at the log
    /// end: batches without records for the caller (control batches) are read past.
    package func read(from offset: Int64, maxBytes: Int) throws(StreamStoreError) -> [StoredRecord] {
        var from = offset
        while true {
            let batches = try readBatches(from: from, maxBytes: maxBytes)
            guard let last = batches.last else { return [] }
            // The records of the batches before a malformed one first, none of its own; the next
            // read, from its offset, meets the error (found by FuzzSegmentRecovery).
            let (records, failure) = StoredBatch.records(of: batches, from: from)
            if let failure, records.isEmpty {
                if let error = failure.error as? StreamStoreError { throw error.with(topic: topic, partition: id) }
                throw StreamStoreError(.corruptBatch, "\(failure.error)", topic: topic, partition: id)
            }
            if !records.isEmpty { return records }
            from = last.nextOffset
        }
    }

    /// The first offset whose record timestamp, as a running maximum over the log, is at or
    /// after `timestamp`; the log end offset when there is none.
    package func offset(forTimestamp timestamp: Int64) throws(StreamStoreError) -> Int64 {
        let view = readView()
        for segment in view.segments where segment.baseOffset <= view.visible.segmentBaseOffset {
            let isActive = segment.baseOffset == view.visible.segmentBaseOffset
            let newest = isActive ? view.activeMaxTimestamp : try segment.sealedMaxTimestamp()
            guard newest >= timestamp else { continue }
            let files = try segment.openFiles()
            var current = max(files.timeIndex.scanStart(forTimestamp: timestamp), view.logStart, segment.baseOffset)
            while current < view.visible.offset {
                let batches = try readBatches(from: current, maxBytes: 1 << 20)
                guard !batches.isEmpty else { break }
                for batch in batches where batch.maxTimestamp >= timestamp {
                    var found: Int64?
                    do {
                        try batch.forEachRecord(from: current) { record in
                            if found == nil && record.timestamp >= timestamp { found = record.offset }
                        }
                    } catch {
                        throw StreamStoreError(.corruptBatch, "\(error)", topic: topic, partition: id, offset: batch.baseOffset)
                    }
                    if let found { return found }
                }
                current = batches.last!.nextOffset
            }
        }
        return view.visible.offset
    }

    /// Decompresses one batch into a buffer of its own, with a context from the pool.
    package func decompress(_ batch: StoredBatch, segment: Segment, at filePosition: Int64) throws(StreamStoreError) -> StoredBatch {
        let decompressor = decompressors.withLock { $0.popLast() } ?? ZstdDecompressor()
        defer { decompressors.withLock { pool in if pool.count < 4 { pool.append(decompressor) } } }
        do throws(StreamStoreError) {
            return try batch.decompressed(with: decompressor, position: "\(segment.logPath), byte \(filePosition)")
        } catch {
            throw error.with(topic: topic, partition: id)
        }
    }

    /// Reads `count` bytes at `position` into the reader's buffer, or a fresh one.
    private func read(_ file: File, at position: Int64, count: Int, buffers: ReadBuffers?) throws(StreamStoreError) -> (bytes: [UInt8], filled: Int) {
        do throws(StreamStoreError) {
            if let buffers {
                return try buffers.fillRaw(count: count) { (raw) throws(StreamStoreError) -> Int in try file.read(into: raw, at: position) }
            }
            var filled = 0
            var failure: StreamStoreError?
            let buffer = [UInt8](unsafeUninitializedCapacity: count) { raw, initialized in
                do throws(StreamStoreError) {
                    initialized = try file.read(into: UnsafeMutableRawBufferPointer(raw), at: position)
                } catch {
                    failure = error
                    initialized = 0
                }
                filled = initialized
            }
            if let failure { throw failure }
            return (buffer, filled)
        } catch {
            throw error.with(topic: topic, partition: id)
        }
    }

    private func corruption(_ reason: String, segment: Segment, position: Int64) -> StreamStoreError {
        StreamStoreError(
            .corruptBatch, "The log is corrupt at byte \(position): \(reason). Run `stream-tool verify`; reopening the store after an unclean shutdown truncates a corrupt tail.",
            path: segment.logPath, topic: topic, partition: id)
    }
}
