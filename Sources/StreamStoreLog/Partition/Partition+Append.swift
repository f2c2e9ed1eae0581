import StreamStoreFormat
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Partition {
    /// Appends one batch; returns once it is as durable as the topic's flush policy promises.
    /// `expectedNextOffset`, when given, must be the partition's log end (`.offsetConflict`
    /// otherwise, and nothing is written).
    package func append(_ batch: RecordBatch, expectedNextOffset: Int64? = nil) async throws(StreamStoreError) -> AppendReceipt {
        let written = try write(batch, expectedNextOffset: expectedNextOffset)
        if let end = written.durableEnd { try await groupCommit.waitDurable(upTo: end) }
        return written.receipt
    }

    /// What ``write(_:expectedNextOffset:)`` did: the receipt, and the offset the caller must
    /// wait to be durable before acknowledging (nil when the flush policy does not wait).
    package struct Written {
        package var receipt: AppendReceipt
        package var durableEnd: Int64?
    }

    /// Assigns offsets and writes the batch to the active segment, after the write-side guards:
    /// the timestamp limit, the idempotent producer's sequence, and the expected offset.
    package func write(_ batch: RecordBatch, expectedNextOffset: Int64? = nil) throws(StreamStoreError) -> Written {
        guard !batch.isEmpty else {
            throw StreamStoreError(.emptyBatch, "A batch needs at least one record.", topic: topic, partition: id)
        }
        let config = context.config
        let now = context.clock.nowMilliseconds()
        // A skew limit near Int64.max means "no limit", not an overflow trap.
        let (latestAllowed, unlimited) = now.addingReportingOverflow(config.maxTimestampSkewMilliseconds)
        if let newest = batch.maxCreateTimestamp, !unlimited, newest > latestAllowed {
            throw StreamStoreError(
                .timestampInFuture,
                "A record timestamp is \(newest - now) ms in the future, more than the topic's \(config.maxTimestampSkewMilliseconds) ms skew limit; fix the producer's clock or omit the timestamp to use append time.",
                topic: topic, partition: id)
        }
        let guards = WriteGuards(expectedNextOffset: expectedNextOffset, now: now)
        switch config.compression {
        case .none:
            return try batch.withRecordBytes { (records) throws(StreamStoreError) in
                try write(batch, body: records, codec: 0, guards: guards)
            }
        case .zstd(let level):
            // One compressor per partition, reused: no context or buffer is allocated per batch.
            // Its lock is taken before the partition's, never after.
            return try compressor.withLock { (slot) throws(StreamStoreError) in
                let compressor = slot ?? ZstdCompressor(level: level)
                slot = compressor
                return try batch.withRecordBytes { (records) throws(StreamStoreError) in
                    let compressed = try compressor.compress(records)
                    // Incompressible records (already compressed or encrypted payloads) are
                    // stored as they are: the batch's own codec says which, so readers need no
                    // setting to tell, and nothing pays to decompress a frame that saved nothing.
                    if compressed.count >= records.count { return try write(batch, body: records, codec: 0, guards: guards) }
                    return try write(batch, body: compressed, codec: Compression.zstdCodecID, guards: guards)
                }
            }
        }
    }

    /// Appends a batch sealed elsewhere (a Kafka client's RecordBatch v2, as it came off the
    /// wire) byte for byte, except its base offset, which becomes the partition's next offset
    /// (the CRC does not cover it). `bytes` must hold exactly one whole batch with a valid CRC,
    /// records, no control or transactional flag, and a codec this store reads (none or zstd);
    /// the idempotent producer's sequence and the timestamp limit are checked as for any append.
    /// Returns once the batch is as durable as the topic's flush policy promises.
    package func append(sealedBatch bytes: UnsafeRawBufferPointer) async throws(StreamStoreError) -> AppendReceipt {
        let written = try write(sealedBatch: bytes)
        if let end = written.durableEnd { try await groupCommit.waitDurable(upTo: end) }
        return written.receipt
    }

    /// ``append(sealedBatch:)`` without the wait for durability.
    package func write(sealedBatch bytes: UnsafeRawBufferPointer) throws(StreamStoreError) -> Written {
        let header: BatchHeader
        switch BatchHeader.probe(bytes, at: 0) {
        case .valid(let probed): header = probed
        case .incomplete(let available):
            throw StreamStoreError(.corruptBatch, "The batch is cut short: \(available) bytes of a longer batch.", topic: topic, partition: id)
        case .corrupt(let reason):
            throw StreamStoreError(.corruptBatch, "The batch is not a valid RecordBatch v2: \(reason).", topic: topic, partition: id)
        }
        guard header.totalBytes == bytes.count else {
            throw StreamStoreError(
                .corruptBatch, "Expected exactly one batch of \(header.totalBytes) bytes, got \(bytes.count) bytes.", topic: topic, partition: id)
        }
        guard header.recordCount > 0 else {
            throw StreamStoreError(.emptyBatch, "A batch needs at least one record.", topic: topic, partition: id)
        }
        guard header.attributes & (BatchHeader.Attribute.control | BatchHeader.Attribute.transactional) == 0 else {
            throw StreamStoreError(.corruptBatch, "Transactional and control batches are not supported.", topic: topic, partition: id)
        }
        guard header.compressionCodec == 0 || header.compressionCodec == Int(Compression.zstdCodecID) else {
            throw StreamStoreError(
                .corruptBatch, "Compression codec \(header.compressionCodec) is not one this store reads; use none or zstd.",
                topic: topic, partition: id)
        }
        let now = context.clock.nowMilliseconds()
        let skew = context.config.maxTimestampSkewMilliseconds
        let (latestAllowed, unlimited) = now.addingReportingOverflow(skew)
        if !unlimited, header.attributes & BatchHeader.Attribute.logAppendTime == 0, header.maxTimestamp > latestAllowed {
            throw StreamStoreError(
                .timestampInFuture,
                "A record timestamp is \(header.maxTimestamp - now) ms in the future, more than the topic's \(skew) ms skew limit; fix the producer's clock.",
                topic: topic, partition: id)
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[BatchHeader.size...])
        return try write(header: header, body: body, guards: WriteGuards(expectedNextOffset: nil, now: now))
    }

    /// The checks made under the partition lock, right before offsets are assigned.
    private struct WriteGuards {
        var expectedNextOffset: Int64?
        var now: Int64
    }

    /// The receipt for a batch that repeats an idempotent producer's batch already written:
    /// every record is a duplicate of the original's record at the same position.
    private func duplicateReceipt(of original: ProducerStateTable.Batch, count: Int, now: Int64) -> Written {
        context.metrics.duplicateBatches.increment(by: 1)
        let duplicates = (0..<count).map { index in
            DuplicateRecord(index: index, reason: .producerSequence, originalPartition: id, originalOffset: original.baseOffset + Int64(index))
        }
        let receipt = AppendReceipt(partition: id, baseOffset: nextOffset, lastOffset: nextOffset - 1, timestamp: now, duplicates: duplicates)
        // The original may still wait for its fsync; the retry is acknowledged with it.
        return Written(receipt: receipt, durableEnd: context.config.flush == .everyAppend ? original.lastOffset + 1 : nil)
    }

    /// Writes `batch` with `body` as its records section (the records, or them compressed).
    private func write(_ batch: RecordBatch, body: UnsafeRawBufferPointer, codec: Int16, guards: WriteGuards) throws(StreamStoreError) -> Written {
        // The header and its CRC do not depend on the offset, so they are made outside the lock.
        let header = batch.sealedHeader(appendTimeMilliseconds: guards.now, body: body, codec: codec)
        return try write(header: header, body: body, guards: guards)
    }

    /// Writes a sealed batch (its header with a CRC over `body`) at the log end: the header's
    /// base offset is replaced by the partition's next offset, which the CRC does not cover.
    private func write(header sealed: BatchHeader, body: UnsafeRawBufferPointer, guards: WriteGuards) throws(StreamStoreError) -> Written {
        guard !context.isReadOnly else {
            throw StreamStoreError(
                .readOnly, "Cannot append: the store was opened read-only; only the process that opens it for writing may append.", topic: topic, partition: id)
        }
        let config = context.config
        let now = guards.now
        var header = sealed
        let count = Int(header.recordCount)
        let batchBytes = Int64(header.totalBytes)

        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        guard !isClosed else { throw StreamStoreError(.storeClosed, "The store is closed.", topic: topic, partition: id) }
        let isIdempotent = header.producerId >= 0
        if isIdempotent {
            let verdict = try producers.check(
                producerId: header.producerId, epoch: header.producerEpoch, baseSequence: header.baseSequence, count: count)
            if case .duplicate(let original) = verdict { return duplicateReceipt(of: original, count: count, now: now) }
        }
        if let expected = guards.expectedNextOffset, expected != nextOffset {
            throw StreamStoreError(
                .offsetConflict,
                "The append expected the partition's next offset to be \(expected), but it is \(nextOffset): another append got there first. Read the records from \(min(expected, nextOffset)), decide again, and retry with expectedNextOffset \(nextOffset).",
                topic: topic, partition: id, offset: nextOffset)
        }
        if shouldRoll(batchBytes: batchBytes, recordCount: Int64(count), now: now) { try roll(now: now) }

        header.baseOffset = nextOffset
        header.store(to: headerScratch)
        let position = activeSizeBytes
        // The batch's index entries go first: an index that must grow preallocates its next
        // part, which fails on a full disk. Failing there, before the log holds the batch,
        // refuses the batch with nothing written and the partition still appending; failing
        // after would leave a batch in the log that its append reported as not written.
        let cadenceBefore = cadence
        let indexEntriesBefore = (offset: activeFiles.offsetIndex.file.entryCount, time: activeFiles.timeIndex.file.entryCount)
        let takeBackIndexEntries = { [self] in
            cadence = cadenceBefore
            activeFiles.offsetIndex.file.truncate(toEntryCount: indexEntriesBefore.offset)
            activeFiles.timeIndex.file.truncate(toEntryCount: indexEntriesBefore.time)
        }
        do {
            let entries = cadence.entriesBeforeBatch()
            if entries.offsetEntry { _ = try activeFiles.offsetIndex.append(offset: header.baseOffset, position: position) }
            if let timestamp = entries.timeEntry { _ = try activeFiles.timeIndex.append(timestamp: timestamp, offset: header.baseOffset) }
        } catch {
            takeBackIndexEntries()
            throw error.with(topic: topic, partition: id)
        }
        do {
            try activeFiles.log.write(header: UnsafeRawBufferPointer(start: headerScratch, count: BatchHeader.size), body: body, at: position)
        } catch {
            // Nothing was acknowledged; drop whatever part of the batch reached the file, so the
            // next append (after space is freed, for ENOSPC) starts on a clean boundary.
            try? activeFiles.log.truncate(to: position)
            takeBackIndexEntries()
            throw error.with(topic: topic, partition: id)
        }
        cadence.recordBatch(byteCount: Int(batchBytes), maxTimestamp: header.maxTimestamp)
        activeSizeBytes = position + batchBytes
        nextOffset = header.nextOffset
        context.metrics.recordAppend(records: count, bytes: batchBytes)
        if activeFirstAppendMilliseconds == nil { activeFirstAppendMilliseconds = now }
        if isIdempotent {
            producers.record(
                producerId: header.producerId, epoch: header.producerEpoch, firstSequence: header.baseSequence, count: count,
                baseOffset: header.baseOffset, lastOffset: header.lastOffset, now: now)
        }
        let receipt = AppendReceipt(partition: id, baseOffset: header.baseOffset, lastOffset: header.lastOffset, timestamp: header.maxTimestamp)
        switch config.flush {
        case .everyAppend:
            return Written(receipt: receipt, durableEnd: receipt.lastOffset + 1)
        case .interval(let milliseconds):
            publish(VisibleEnd(offset: nextOffset, segmentBaseOffset: activeFiles.offsetIndex.baseOffset, position: activeSizeBytes))
            groupCommit.scheduleFlush(afterMilliseconds: milliseconds)
            return Written(receipt: receipt, durableEnd: nil)
        case .never:
            publish(VisibleEnd(offset: nextOffset, segmentBaseOffset: activeFiles.offsetIndex.baseOffset, position: activeSizeBytes))
            return Written(receipt: receipt, durableEnd: nil)
        }
    }

    /// A segment rolls before a batch that would take it past `segmentBytes`, when it is older
    /// than `segmentMilliseconds`, when an index is full, or when the batch's offsets would not
    /// fit a relative offset (lock held).
    private func shouldRoll(batchBytes: Int64, recordCount: Int64, now: Int64) -> Bool {
        guard activeSizeBytes > 0 else { return false }
        let config = context.config
        if activeSizeBytes + batchBytes > Int64(config.segmentBytes) { return true }
        if let first = activeFirstAppendMilliseconds {
            // After a reopen `first` is the first batch's timestamp, whatever a producer put there
            // (Int64.min is a valid create time): an age past Int64.max is old enough to roll, not
            // an overflow trap (found by FuzzSegmentRecovery).
            let (age, overflow) = now.subtractingReportingOverflow(first)
            if overflow || age >= config.segmentMilliseconds { return true }
        }
        // One entry is kept in reserve for the final time entry written when the segment seals.
        if activeFiles.offsetIndex.file.entryCount >= activeFiles.offsetIndex.file.maxEntries - 1
            || activeFiles.timeIndex.file.entryCount >= activeFiles.timeIndex.file.maxEntries - 1
        {
            return true
        }
        return nextOffset + recordCount - 1 - activeFiles.offsetIndex.baseOffset > Limits.maxRelativeOffset
    }

    /// Seals the active segment (durable, indexes trimmed, final time entry) and starts a new one
    /// at the log end (lock held).
    ///
    /// The sealed segment's final time entry and the new segment's files come first, while the
    /// active segment is otherwise untouched: a roll that fails there for space (an index that
    /// cannot grow, no inode or folder block left) throws with nothing changed, so the batch
    /// that asked for it is refused and appends go on once space is freed. Past that point
    /// a failure fences the partition, except the checkpoint and the producer snapshot, which
    /// only speed up the next open: a stale one makes it scan more.
    func roll(now: Int64) throws(StreamStoreError) {
        guard let sealing = segments.last else {
            throw StreamStoreError(.missingActiveSegment, "The partition has no active segment to roll.", topic: topic, partition: id)
        }
        // The sealed segment's final time entry may need its index to grow (preallocate): like
        // the new segment's files, taken back when that fails.
        let timeEntriesBefore = activeFiles.timeIndex.file.entryCount
        let fresh: (segment: Segment, files: SegmentFiles)
        do {
            if cadence.maxTimestamp > Int64.min {
                _ = try activeFiles.timeIndex.append(timestamp: cadence.maxTimestamp, offset: nextOffset)
            }
            fresh = try SegmentCreator.create(baseOffset: nextOffset, context: context)
        } catch {
            activeFiles.timeIndex.file.truncate(toEntryCount: timeEntriesBefore)
            SegmentCreator.removeLeftovers(baseOffset: nextOffset, context: context)
            let failed = error.with(topic: topic, partition: id)
            // A full disk changes nothing; any other failure (a folder fsync that failed, say)
            // still fences, as a failed fsync anywhere does.
            if !error.isOutOfSpace { failure = failed }
            throw failed
        }
        do {
            try activeFiles.offsetIndex.file.trim()
            try activeFiles.timeIndex.file.trim()
            let sealedLog = activeFiles.log
            if context.config.flush == .everyAppend {
                // Appends waiting on group commit may have written to the sealed segment without
                // an fsync yet; the flusher only syncs the active segment, so sync it here.
                try context.syncLog(sealedLog)
                recoveryPoint = nextOffset
                writeCheckpointIfPossible(Checkpoint(logStartOffset: logStartOffset, recoveryPoint: nextOffset))
            } else {
                // Flushing a whole segment can take seconds; it happens off the append path, and
                // the recovery point moves only once it is done (Kafka flushes on roll the same way).
                groupCommit.syncSealedSegment(sealedLog, recoveryPoint: nextOffset)
            }
            sealing.seal(nextOffset: nextOffset, sizeBytes: activeSizeBytes, maxTimestamp: cadence.maxTimestamp)
            // Its correlation filter is made off the append path, from the sealed bytes.
            context.correlationFilters.schedule(sealing)
            // Opening after a crash then scans only the new segment's headers for producer state.
            do throws(StreamStoreError) {
                try writeProducerSnapshot()
            } catch {
                context.logger.warning("Could not write the producer state snapshot at a roll (the next open scans more batch headers instead): \(error)")
            }
            segments.append(fresh.segment)
            segmentListVersion &+= 1
            activeFiles = fresh.files
            activeSizeBytes = 0
            cadence = IndexCadence(intervalBytes: context.config.indexIntervalBytes)
            activeFirstAppendMilliseconds = nil
            // Everything written is now visible: for `.everyAppend` the sealed segment was just
            // fsynced, otherwise readers see written data anyway.
            publish(VisibleEnd(offset: nextOffset, segmentBaseOffset: fresh.segment.baseOffset, position: 0))
            context.logger.debug("Rolled to a new segment at offset \(nextOffset).")
        } catch {
            let fenced = error.with(topic: topic, partition: id)
            failure = fenced
            throw fenced
        }
    }

    /// Writes a checkpoint whose only job is to shorten the next open's recovery: a failure (a
    /// full disk) is logged, not thrown, and the next checkpoint carries the same news.
    func writeCheckpointIfPossible(_ checkpoint: Checkpoint) {
        do throws(StreamStoreError) {
            try writeCheckpoint(checkpoint)
        } catch {
            context.logger.warning("Could not write the checkpoint (the next open after a crash scans more of the log instead): \(error)")
        }
    }
}

/// Creates the files of a new, empty active segment.
enum SegmentCreator {
    static func create(baseOffset: Int64, context: PartitionContext) throws(StreamStoreError) -> (segment: Segment, files: SegmentFiles) {
        let segment = Segment(baseOffset: baseOffset, folder: context.folder, environment: context.segmentEnvironment)
        let directory = Directory(fileSystem: context.fileSystem)
        // Leftovers of an earlier attempt at this base offset hold nothing we need.
        try directory.remove(segment.offsetIndexPath)
        try directory.remove(segment.timeIndexPath)
        try directory.remove(segment.correlationFilterPath)
        let log = try File.open(segment.logPath, create: true, fileSystem: context.fileSystem)
        try log.truncate(to: 0)
        let files = try segment.openIndexes(log: log)
        // The new names must survive a crash before the first fsync of the log.
        try directory.sync(context.folder)
        segment.activate(files)
        return (segment, files)
    }

    /// Removes what a failed ``create(baseOffset:context:)`` left, best effort: the segment it
    /// was making is empty, and nothing may trip over its files later.
    static func removeLeftovers(baseOffset: Int64, context: PartitionContext) {
        let segment = Segment(baseOffset: baseOffset, folder: context.folder, environment: context.segmentEnvironment)
        let directory = Directory(fileSystem: context.fileSystem)
        for path in [segment.offsetIndexPath, segment.timeIndexPath, segment.logPath] { try? directory.remove(path) }
    }
}
