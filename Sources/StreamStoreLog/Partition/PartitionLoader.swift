import StreamStoreFormat
/// What opening a partition's folder produced.
package struct OpenedLog {
    var segments: [Segment]
    var activeFiles: SegmentFiles
    var activeSizeBytes: Int64
    var nextOffset: Int64
    var logStartOffset: Int64
    var cadence: IndexCadence
    var activeFirstAppendMilliseconds: Int64?
    package var recovery: PartitionRecovery?
    /// The checkpoint now on disk.
    var checkpoint: Checkpoint?
}

/// What recovery did to one partition after an unclean shutdown.
public struct PartitionRecovery: Sendable, Equatable, CustomStringConvertible {
    /// The topic of the partition.
    public var topic: String
    /// The partition's number.
    public var partition: Int
    /// Bytes of log read and checked past the recovery point.
    public var scannedBytes: Int64
    /// Bytes cut from the end of the log because they were not a whole, valid batch.
    public var truncatedBytes: Int64
    /// The log end offset after recovery.
    public var logEndOffset: Int64
    /// Why the log was cut, when it was.
    public var reason: String?
    /// Base offsets of whole segments removed because they followed the invalid bytes.
    public var deletedSegments: [Int64]

    /// One line for logs: what was scanned and the log end, and what was cut and why, if anything.
    public var description: String {
        var text = "\(topic)/\(partition): scanned \(scannedBytes) bytes, log end offset \(logEndOffset)"
        if truncatedBytes > 0 || !deletedSegments.isEmpty {
            text += "; truncated \(truncatedBytes) bytes"
            if let reason { text += " (\(reason))" }
            if !deletedSegments.isEmpty { text += "; removed segments after it: \(deletedSegments)" }
        }
        return text
    }
}

/// Opens a partition folder: cleans up leftovers, trusts a clean shutdown's checkpoint, or
/// recovers by scanning from the recovery point (docs/FORMAT.md, "Durability and recovery").
package enum PartitionLoader {
    package static func open(context: PartitionContext, storeWasClean: Bool) throws(StreamStoreError) -> OpenedLog {
        let directory = Directory(fileSystem: context.fileSystem)
        let folder = context.folder
        try directory.create(folder)
        let names = try directory.list(folder)
        for name in names where name.hasSuffix(FileNames.temporarySuffix) || name.hasSuffix(FileNames.deletedSuffix) {
            try directory.remove(FileNames.join(folder, name))
        }
        let bases = names.compactMap { FileNames.baseOffset(ofSegmentFile: $0) }.sorted()
        let baseSet = Set(bases)
        for name in names {
            let base = FileNames.baseOffset(ofSegmentFile: name, suffix: FileNames.offsetIndexSuffix)
                ?? FileNames.baseOffset(ofSegmentFile: name, suffix: FileNames.timeIndexSuffix)
                ?? FileNames.baseOffset(ofSegmentFile: name, suffix: FileNames.correlationFilterSuffix)
            if let base, !baseSet.contains(base) { try directory.remove(FileNames.join(folder, name)) }
        }
        let checkpointPath = FileNames.join(folder, FileNames.checkpoints)
        let checkpointBytes = try directory.readWhole(checkpointPath, limitBytes: Limits.maxCheckpointBytes)
        let checkpoint = checkpointBytes.flatMap(Checkpoint.decode)
        if checkpointBytes != nil && checkpoint == nil {
            context.logger.warning("The checkpoint file is not valid; recovering the partition from its first segment.")
        }

        guard let firstBase = bases.first else {
            let start = checkpoint?.logStartOffset ?? 0
            let fresh = try SegmentCreator.create(baseOffset: start, context: context)
            let written = Checkpoint(logStartOffset: start, recoveryPoint: start)
            try directory.writeAtomically(written.encoded(), to: checkpointPath, folder: folder)
            return OpenedLog(
                segments: [fresh.segment], activeFiles: fresh.files, activeSizeBytes: 0, nextOffset: start,
                logStartOffset: start, cadence: IndexCadence(intervalBytes: context.config.indexIntervalBytes), checkpoint: written)
        }

        var segments = bases.map { Segment(baseOffset: $0, folder: folder, environment: context.segmentEnvironment) }
        for index in segments.indices.dropLast() { segments[index].setSealedNextOffset(bases[index + 1]) }
        let logStart = max(checkpoint?.logStartOffset ?? firstBase, firstBase)
        // Retention checkpointed a new log start and stopped before unlinking every segment
        // below it: finish the job.
        while segments.count > 1, let next = segments[0].nextOffsetIfSealed, next <= logStart {
            context.logger.info("Removing segment \(segments[0].baseOffset), below the log start offset \(logStart) (an interrupted retention run).")
            try segments.removeFirst().delete()
        }

        if storeWasClean, let checkpoint, let opened = try openClean(segments: segments, checkpoint: checkpoint, logStart: logStart, context: context) {
            return opened
        }
        return try recover(segments: &segments, recoveryPoint: checkpoint?.recoveryPoint ?? firstBase, logStart: logStart, context: context)
    }

    /// After a clean shutdown: the active segment is as the checkpoint says, so nothing is
    /// scanned. Returns nil (recover instead) when the files disagree with the checkpoint.
    private static func openClean(segments: [Segment], checkpoint: Checkpoint, logStart: Int64, context: PartitionContext) throws(StreamStoreError) -> OpenedLog? {
        guard let active = segments.last else { return nil }
        let log = try File.open(active.logPath, create: false, fileSystem: context.fileSystem)
        let logBytes = try log.size()
        guard checkpoint.cleanLogEndOffset >= active.baseOffset, checkpoint.cleanActiveLogBytes == logBytes else {
            context.logger.warning("The active segment does not match the clean-shutdown checkpoint; recovering it.")
            return nil
        }
        let segmentEntries = checkpoint.cleanLogEndOffset - active.baseOffset
        let offsetFile = try IndexFile.readEntries(path: active.offsetIndexPath, fileSystem: context.fileSystem)
        let timeFile = try IndexFile.readEntries(path: active.timeIndexPath, fileSystem: context.fileSystem)
        let offsetBytes = offsetFile ?? []
        let timeBytes = timeFile ?? []
        var cadence = IndexCadence(intervalBytes: context.config.indexIntervalBytes)
        // The writer's running maximum timestamp is restored from the last time entry, so a time
        // index that is missing, or empty beside offset entries (the writer makes a time entry
        // with the first offset entry), would lose it: timestamp lookups would skip the segment
        // (found by FuzzIndexValidation).
        var doubt = OffsetIndex.validate(offsetBytes, logBytes: logBytes, segmentEntries: segmentEntries)
            ?? TimeIndex.validate(timeBytes, segmentEntries: segmentEntries)
        if doubt == nil && (offsetFile == nil || timeFile == nil) { doubt = "an index file is missing" }
        if doubt == nil && !offsetBytes.isEmpty && timeBytes.isEmpty { doubt = "the time index is empty but the offset index is not" }
        if let doubt {
            context.logger.warning("Rebuilding the indexes of \(active.logPath): \(doubt).")
            let scan = try IndexBuilder.scan(log: log, logBytes: logBytes, baseOffset: active.baseOffset, intervalBytes: context.config.indexIntervalBytes)
            guard scan.stop == .end, scan.nextOffset == checkpoint.cleanLogEndOffset else { return nil }
            try IndexBuilder.write(scan, segment: active, sealed: false)
        }
        let files = try active.openIndexes(log: log)
        // The writer's indexing state is restored from the tail of the segment: the bytes after
        // the last offset entry (at most about one index interval) are read, headers only.
        let lastEntryPosition = Int64(files.offsetIndex.entries().last?.position ?? 0)
        let lastTimeEntry = files.timeIndex.last?.timestamp ?? Int64.min
        var newest = lastTimeEntry
        var tailEnd = lastEntryPosition
        var reader = LogReader(file: log, from: lastEntryPosition, to: logBytes)
        let stop = try reader.forEach { batch in
            newest = max(newest, batch.header.maxTimestamp)
            tailEnd = batch.endPosition
        }
        guard stop == .end, tailEnd == logBytes else {
            context.logger.warning("The tail of the active segment does not scan cleanly (\(stop.sentence)); recovering it.")
            return nil
        }
        cadence.restore(bytesSinceLastEntry: Int(logBytes - lastEntryPosition), maxTimestamp: newest, lastTimeEntryTimestamp: lastTimeEntry)
        active.activate(files)
        return OpenedLog(
            segments: segments, activeFiles: files, activeSizeBytes: logBytes, nextOffset: checkpoint.cleanLogEndOffset,
            logStartOffset: logStart, cadence: cadence,
            activeFirstAppendMilliseconds: try firstBatchTimestamp(log: log, logBytes: logBytes), checkpoint: checkpoint)
    }

    /// After an unclean shutdown: scan every segment from the one holding the recovery point,
    /// cut the log at the first byte that is not a valid batch, rebuild the scanned segments'
    /// indexes, and say what was cut.
    private static func recover(segments: inout [Segment], recoveryPoint: Int64, logStart: Int64, context: PartitionContext) throws(StreamStoreError) -> OpenedLog {
        let directory = Directory(fileSystem: context.fileSystem)
        let firstScanned = segments.lastIndex { $0.baseOffset <= recoveryPoint } ?? 0
        var report = PartitionRecovery(
            topic: context.topic, partition: context.partition, scannedBytes: 0, truncatedBytes: 0, logEndOffset: 0,
            reason: nil, deletedSegments: [])
        var index = firstScanned
        var lastScan: IndexBuilder.Scan?
        var activeLog: File?
        while index < segments.count {
            let segment = segments[index]
            let log = try File.open(segment.logPath, create: false, fileSystem: context.fileSystem)
            let logBytes = try log.size()
            var scan = try IndexBuilder.scan(log: log, logBytes: logBytes, baseOffset: segment.baseOffset, intervalBytes: context.config.indexIntervalBytes)
            report.scannedBytes += scan.validBytes
            let isLast = index == segments.count - 1
            let gap = !isLast && scan.stop == .end && scan.nextOffset != segments[index + 1].baseOffset
            if scan.stop != .end || gap {
                report.truncatedBytes += logBytes - scan.validBytes
                report.reason = gap ? "segment ends at offset \(scan.nextOffset) but the next begins at \(segments[index + 1].baseOffset)" : scan.stop.sentence
                // The filter goes before the bytes it describes: a crash in between must not
                // leave a filter beside a log that lost records.
                try directory.remove(segment.correlationFilterPath)
                try log.truncate(to: scan.validBytes)
                try context.syncLog(log)
                // Offsets are dense: nothing after an invalid spot can be served, so later
                // segments go, and the report names them.
                for later in segments[(index + 1)...] {
                    report.deletedSegments.append(later.baseOffset)
                    report.truncatedBytes += (try? File.open(later.logPath, create: false, fileSystem: context.fileSystem).size()) ?? 0
                    try directory.remove(later.logPath)
                    try directory.remove(later.offsetIndexPath)
                    try directory.remove(later.timeIndexPath)
                    try directory.remove(later.correlationFilterPath)
                }
                segments.removeSubrange((index + 1)...)
                scan.stop = .end
            }
            let nowLast = index == segments.count - 1
            try IndexBuilder.write(scan, segment: segment, sealed: !nowLast)
            if nowLast {
                lastScan = scan
                activeLog = log
            }
            index += 1
        }
        guard let scan = lastScan, let log = activeLog, let active = segments.last else {
            throw StreamStoreError(.missingActiveSegment, "Recovery found no active segment.", path: context.folder)
        }
        try context.syncLog(log)
        try directory.sync(context.folder)
        let files = try active.openIndexes(log: log)
        active.activate(files)
        let recovered = Checkpoint(logStartOffset: min(logStart, scan.nextOffset), recoveryPoint: active.baseOffset)
        var written: Checkpoint? = recovered
        do throws(StreamStoreError) {
            try directory.writeAtomically(recovered.encoded(), to: FileNames.join(context.folder, FileNames.checkpoints), folder: context.folder)
        } catch let error where error.isOutOfSpace {
            // Only shortens the next recovery; a store opened on a full disk is how space is
            // freed (retention), so it opens, and the next checkpoint is written with room.
            context.logger.warning("Could not write the checkpoint after recovery (the next open after a crash scans more of the log instead): \(error)")
            written = nil
        }
        report.logEndOffset = scan.nextOffset
        if report.truncatedBytes > 0 {
            context.metrics.recordRecoveryTruncation(bytes: report.truncatedBytes)
            context.logger.error("Recovery truncated the log: \(report)")
        } else {
            context.logger.info("Recovered after an unclean shutdown: \(report)")
        }
        return OpenedLog(
            segments: segments, activeFiles: files, activeSizeBytes: scan.validBytes, nextOffset: scan.nextOffset,
            logStartOffset: min(logStart, scan.nextOffset), cadence: scan.cadence,
            activeFirstAppendMilliseconds: try firstBatchTimestamp(log: log, logBytes: scan.validBytes), recovery: report,
            checkpoint: written)
    }

    /// The timestamp of a segment's first batch, standing in for when it was started.
    private static func firstBatchTimestamp(log: File, logBytes: Int64) throws(StreamStoreError) -> Int64? {
        guard logBytes >= Int64(BatchHeader.size) else { return nil }
        var bytes = [UInt8](repeating: 0, count: BatchHeader.size)
        let count = try withMutableBytes(&bytes) { (raw) throws(StreamStoreError) in try log.read(into: raw, at: 0) }
        guard count == BatchHeader.size else { return nil }
        return bytes.withUnsafeBytes { raw in raw.baseAddress.map { BatchHeader(loadingFrom: $0).maxTimestamp } }
    }
}
