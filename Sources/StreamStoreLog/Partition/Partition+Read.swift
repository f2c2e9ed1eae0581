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

    /// Returns `offset` when a read may start there (from the log start to the log end readers
    /// see, the end included), else throws the `.offsetOutOfRange` a read from it would throw.
    package func checkedReadStart(_ offset: Int64) throws(StreamStoreError) -> Int64 {
        let view = readView()
        try requireReadable(offset, logStart: view.logStart, logEnd: view.visible.offset)
        return offset
    }

    private func requireReadable(_ offset: Int64, logStart: Int64, logEnd: Int64) throws(StreamStoreError) {
        guard offset >= logStart else {
            throw StreamStoreError(
                .offsetOutOfRange, "Offset \(offset) is below the log start offset \(logStart); read from \(logStart) or later.",
                topic: topic, partition: id, offset: offset)
        }
        guard offset <= logEnd else {
            throw StreamStoreError(
                .offsetOutOfRange, "Offset \(offset) is past the log end offset \(logEnd).",
                topic: topic, partition: id, offset: offset)
        }
    }

    /// Batches holding offsets from `offset` on, at most about `maxBytes` of them (at least one
    /// batch, however large, so a reader always makes progress). Empty at the log end.
    /// Compressed batches count with their decompressed size and come back decompressed.
    /// A reader that passes its `buffers` gets them reused (see ``ReadBuffers``).
    package func readBatches(from offset: Int64, maxBytes requestedBytes: Int, buffers: ReadBuffers? = nil) throws(StreamStoreError) -> [StoredBatch] {
        let view = readView()
        try requireReadable(offset, logStart: view.logStart, logEnd: view.visible.offset)
        guard offset < view.visible.offset else { return [] }
        defer { buffers?.endRead() }
        // Any budget works: 0 or less still reads one batch, Int.max reads to the end.
        var picked = PickedBatches(nextOffset: offset, maxBytes: max(requestedBytes, 0), indexIntervalBytes: context.config.indexIntervalBytes)
        var segmentIndex = view.segments.lastIndex { $0.baseOffset <= offset } ?? 0
        while !picked.isDone, picked.nextOffset < view.visible.offset, segmentIndex < view.segments.count {
            let segment = view.segments[segmentIndex]
            guard segment.baseOffset <= view.visible.segmentBaseOffset else { break }
            let end = segment.baseOffset == view.visible.segmentBaseOffset ? view.visible.position : try segment.sealedSize()
            try pick(from: segment, end: end, into: &picked, buffers: buffers)
            segmentIndex += 1
        }
        if let buffers, picked.takenBytes > 0 {
            let logBytes = picked.batches.reduce(0) { $0 + $1.byteCount }
            buffers.plainBytesPerLogByte = max(1, Double(picked.takenBytes) / Double(max(logBytes, 1)))
        }
        if !picked.compressed.isEmpty { try decompress(picked.compressed, of: &picked.batches, buffers: buffers) }
        for index in picked.batches.indices { picked.batches[index].partition = id }
        return picked.batches
    }

    /// Picks the batches of `segment` that hold the read's next offsets, up to `end` (the
    /// segment's end as readers see it).
    ///
    /// Which batches a read takes depends only on the log, the offset index and the budget,
    /// never on where the walk started (the index's floor entry, or where an earlier read
    /// ended): the first batch of the segment the read wants, at `W`, and then the whole
    /// batches that end at or before the last batch boundary the index knows within the budget
    /// of `W` (or at `W` plus the budget, when the index knows none past `W`). So one read twice
    /// gives one answer, whoever read in between. The walk reads no byte past that point: a read
    /// never reads a batch it would leave for the next read (measured with 1 KiB records, whose
    /// batches are about 1 MiB: a quarter of a 4 MiB read was read twice), and its first read
    /// of the file already ends on a boundary within the budget.
    private func pick(from segment: Segment, end: Int64, into picked: inout PickedBatches, buffers: ReadBuffers?) throws(StreamStoreError) {
        let chunkBytes = picked.readBytes(buffers: buffers)
        let budgetBytes = max(chunkBytes - picked.indexIntervalBytes, 0)
        let offsetIndex = try segment.openFiles().offsetIndex
        // Where this segment's batches end at most, set at the first one taken.
        var takeEnd: Int64?
        let stop = try walk(segment, to: end, from: picked.nextOffset, chunkBytes: chunkBytes, alignedBudget: budgetBytes, buffers: buffers) {
            (reader, batch) throws(StreamStoreError) -> Bool in
            // A whole, checksummed batch this reader cannot decode (a codec it does not read)
            // is an error only once it holds a wanted offset: the walk passes over batches that
            // end before it (found by FuzzSegmentRecovery).
            if let reason = batch.header.unreadableCodecReason {
                try picked.endBeforeBadBatch(corruption(reason, segment: segment, position: batch.position))
                return false
            }
            let limit = takeEnd ?? Self.takeEnd(from: batch.position, budgetBytes: budgetBytes, segmentEnd: end, index: offsetIndex)
            takeEnd = limit
            // Past the limit: left for the next read (the first batch of a read always goes).
            guard picked.batches.isEmpty || batch.endPosition <= limit else {
                picked.isDone = true
                return false
            }
            picked.take(reader.storedBatch(batch), segment: segment, position: batch.position)
            reader.readLimit = limit
            reader.chunkBytes = Int(clamping: max(limit - reader.position, 0))
            return !picked.isDone
        }
        if case .stopped = stop {
            // The bytes read are used up: the rest of this segment is for the next read.
            picked.isDone = true
        }
        if let error = stop.flatMap({ corruption(at: $0, segment: segment) }) { try picked.endBeforeBadBatch(error) }
    }

    /// The position a read's batches in one segment end at most, when the first of them starts
    /// at `position`: the segment's end when the budget reaches it, else the last batch
    /// boundary the offset index knows within `budgetBytes` of `position`, or `position +
    /// budgetBytes` when it knows none past `position`.
    private static func takeEnd(from position: Int64, budgetBytes: Int, segmentEnd: Int64, index: OffsetIndex) -> Int64 {
        let reach = budgetBytes >= Int.max - Int(position) ? Int64.max : position + Int64(budgetBytes)
        if reach >= segmentEnd { return segmentEnd }
        if let boundary = index.batchStart(atOrBelow: reach), boundary > position { return boundary }
        return reach
    }

    /// Calls `visit` with each batch of `segment` up to `end` that holds offsets from `offset`
    /// on, in order, until it returns false. Returns why the walk ended: nil when `visit` ended
    /// it, else where the reader stopped.
    ///
    /// With `alignedBudget`, the first read of the file ends at the last batch boundary of the
    /// offset index within that many bytes of where the walk starts, when there is one past it.
    func walk(
        _ segment: Segment, to end: Int64, from offset: Int64, chunkBytes: Int, alignedBudget: Int? = nil, buffers: ReadBuffers?,
        _ visit: (inout LogReader, LogReader.Batch) throws(StreamStoreError) -> Bool
    ) throws(StreamStoreError) -> LogReader.Stop? {
        let files = try segment.openFiles()
        // The offset index only says where to start looking; an index that passed validation
        // can still be damaged. Until the bytes there prove to be a batch boundary at or before
        // the wanted offset (offsets are dense: a batch past it means the one holding it lies
        // further back), a misplaced start means reading the segment from its beginning
        // instead, never skipping records (found by FuzzIndexValidation).
        // A read continuing where another ended starts there (the same checks apply to it).
        let floor = files.offsetIndex.position(floorOf: offset)
        let hinted = readHints.withLock { $0.position(segmentBaseOffset: segment.baseOffset, offset: offset, floor: floor, end: end) }
        var start = hinted ?? floor
        while true {
            var firstChunk = chunkBytes
            if let alignedBudget, end - start > Int64(chunkBytes), alignedBudget < Int.max - Int(start),
                let boundary = files.offsetIndex.batchStart(atOrBelow: start + Int64(alignedBudget)), boundary > start
            {
                firstChunk = Int(boundary - start)
            }
            var reader = LogReader(file: files.log, from: start, to: end, chunkBytes: firstChunk, buffers: buffers)
            var trustingIndex = start > 0
            var misled = false
            var reached: ReadHints.Hint?
            defer {
                if let reached { readHints.withLock { $0.remember(reached, replacing: start) } }
            }
            while let batch = try nextBatch(of: &reader) {
                if trustingIndex && batch.header.nextOffset > offset {
                    trustingIndex = false
                    misled = batch.header.baseOffset > offset
                    if misled { break }
                }
                guard batch.header.nextOffset > offset else { continue }
                reached = ReadHints.Hint(
                    segmentBaseOffset: segment.baseOffset, offset: batch.header.nextOffset, position: batch.position + Int64(batch.header.totalBytes))
                guard try visit(&reader, batch) else { return nil }
            }
            guard misled || (trustingIndex && reader.stop != .end), start > 0 else { return reader.stop }
            reached = nil
            start = 0
        }
    }

    private func nextBatch(of reader: inout LogReader) throws(StreamStoreError) -> LogReader.Batch? {
        do throws(StreamStoreError) {
            return try reader.next()
        } catch {
            throw error.with(topic: topic, partition: id)
        }
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
            let plainBytes = entry.plainBytes ?? 0
            placed.append(total..<(total + plainBytes))
            total += plainBytes + 1
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
            if let failure, records.isEmpty { throw failure.error.with(topic: topic, partition: id) }
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
                guard let last = batches.last else { break }
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
                current = last.nextOffset
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

    /// The error a reader meets where a walk of `segment` stopped; nil at its end.
    func corruption(at stop: LogReader.Stop, segment: Segment) -> StreamStoreError? {
        switch stop {
        case .corrupt(let position, let reason): return corruption(reason, segment: segment, position: position)
        case .torn(let position, _, _): return corruption("a batch at byte \(position) runs past the end of the segment", segment: segment, position: position)
        case .end, .stopped: return nil
        }
    }

    private func corruption(_ reason: String, segment: Segment, position: Int64) -> StreamStoreError {
        StreamStoreError(
            .corruptBatch, "The log is corrupt at byte \(position): \(reason). Reopening the store after an unclean shutdown truncates a corrupt tail.",
            path: segment.logPath, topic: topic, partition: id)
    }
}

/// A compressed batch picked by a read, still to be decompressed.
private struct CompressedBatch {
    var index: Int
    var plainBytes: Int?
    var segment: Segment
    var filePosition: Int64
    var description: String { "\(segment.logPath), byte \(filePosition)" }
}

/// The batches one read has picked so far, and what they cost against its budget.
private struct PickedBatches {
    var batches: [StoredBatch] = []
    /// Where each compressed batch of `batches` lies, for decompression after the scan.
    var compressed: [CompressedBatch] = []
    /// What the batches count against the budget: a compressed batch's declared plain size.
    var takenBytes = 0
    /// The offset the next batch picked must hold.
    var nextOffset: Int64
    let maxBytes: Int
    /// Set once the budget is spent or a bad batch follows the picked ones: the read ends.
    var isDone = false

    /// The log's `indexIntervalBytes`: how far before a wanted offset the index may point.
    let indexIntervalBytes: Int

    init(nextOffset: Int64, maxBytes: Int, indexIntervalBytes: Int) {
        self.nextOffset = nextOffset
        self.maxBytes = maxBytes
        self.indexIntervalBytes = indexIntervalBytes
    }

    /// Log bytes to read for what is left of the budget: past it by one index interval, since
    /// the index points up to that far before the wanted offset. A reader that knows how much
    /// its batches expand (zstd) reads about the log bytes its budget needs, not the budget
    /// itself; too little means another read. Saturating, since a budget of Int.max means
    /// "everything".
    func readBytes(buffers: ReadBuffers?) -> Int {
        let budget = max(maxBytes - takenBytes, 0)
        let logBudget = buffers.map { Int(min(Double(budget) / $0.plainBytesPerLogByte * 1.25, Double(Int.max / 2))) } ?? budget
        return logBudget > Int.max - indexIntervalBytes ? Int.max : logBudget + indexIntervalBytes
    }

    /// Adds `batch`, which holds the next offset, unless it does not fit the budget (the first
    /// batch always does).
    mutating func take(_ batch: StoredBatch, segment: Segment, position: Int64) {
        let plainBytes = batch.declaredPlainBytes
        let cost = plainBytes ?? batch.byteCount
        guard batches.isEmpty || takenBytes + cost <= maxBytes else {
            isDone = true
            return
        }
        if batch.isCompressed {
            compressed.append(CompressedBatch(index: batches.count, plainBytes: plainBytes, segment: segment, filePosition: position))
        }
        batches.append(batch)
        takenBytes += cost
        nextOffset = batch.nextOffset
        if takenBytes >= maxBytes { isDone = true }
    }

    /// A bad batch holds the next offset: the good batches before it are handed out first and
    /// the next read meets `error`, which is thrown when there are none.
    mutating func endBeforeBadBatch(_ error: StreamStoreError) throws(StreamStoreError) {
        guard !batches.isEmpty else { throw error }
        isDone = true
    }
}
