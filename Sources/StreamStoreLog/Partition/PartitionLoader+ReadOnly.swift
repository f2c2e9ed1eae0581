import StreamStoreFormat

extension PartitionLoader {
    /// Opens a partition folder for a reader process: nothing is removed, recovered, rebuilt or
    /// written. The log ends where the writer last published (`published`); when no writer has
    /// published (a store last written by an older version), at the last whole, valid batch of
    /// the last segment, which recovery would keep too.
    package static func openReadOnly(context: PartitionContext, published: PublishedEnd?) throws(StreamStoreError) -> OpenedLog {
        let directory = Directory(fileSystem: context.fileSystem)
        let names = try directory.list(context.folder)
        let allBases = names.compactMap { FileNames.baseOffset(ofSegmentFile: $0) }.sorted()
        let end: PublishedEnd
        if let published {
            end = published
        } else {
            end = try scannedEnd(bases: allBases, context: context)
        }
        let segments = try readerSegments(bases: allBases, end: end, context: context)
        guard let active = segments.last else {
            throw StreamStoreError(.corruptCheckpoint, "The partition folder holds no segment at offset \(end.segmentBaseOffset).", path: context.folder)
        }
        let files = try readerFiles(of: active, end: end, context: context)
        active.activate(files)
        var cadence = IndexCadence(intervalBytes: context.config.indexIntervalBytes)
        cadence.restore(bytesSinceLastEntry: 0, maxTimestamp: end.activeMaxTimestamp, lastTimeEntryTimestamp: end.activeMaxTimestamp)
        return OpenedLog(
            segments: segments, activeFiles: files, activeSizeBytes: end.position, nextOffset: end.offset, logStartOffset: end.logStartOffset,
            cadence: cadence, activeFirstAppendMilliseconds: nil, recovery: nil, checkpoint: nil)
    }

    /// The segments a reader sees at `end`: from the one holding the log start to the one the end
    /// lies in (a segment the writer created but has not published yet is left for later), each
    /// but the last told where it ends.
    static func readerSegments(bases allBases: [Int64], end: PublishedEnd, context: PartitionContext) throws(StreamStoreError) -> [Segment] {
        var bases = allBases.filter { $0 <= end.segmentBaseOffset }
        while bases.count > 1, bases[1] <= end.logStartOffset { bases.removeFirst() }
        guard bases.last == end.segmentBaseOffset else {
            throw StreamStoreError(
                .offsetOutOfRange, "The segment at offset \(end.segmentBaseOffset) that the writer published is gone; read again.",
                path: context.folder, offset: end.segmentBaseOffset)
        }
        let segments = bases.map { Segment(baseOffset: $0, folder: context.folder, context: context) }
        for index in segments.indices.dropLast() { segments[index].setSealedNextOffset(bases[index + 1]) }
        return segments
    }

    /// The files of the segment the visible end lies in, indexes cut at that end.
    static func readerFiles(of active: Segment, end: PublishedEnd, context: PartitionContext) throws(StreamStoreError) -> SegmentFiles {
        try ReaderSegmentFiles.open(
            logPath: active.logPath, offsetIndexPath: active.offsetIndexPath, timeIndexPath: active.timeIndexPath, baseOffset: active.baseOffset,
            limit: (end.offset, end.position), fileSystem: context.fileSystem)
    }

    /// Without a published end: the checkpoint's log start, and the end of the valid batches of
    /// the last segment, found by reading it (nothing is cut).
    private static func scannedEnd(bases: [Int64], context: PartitionContext) throws(StreamStoreError) -> PublishedEnd {
        let directory = Directory(fileSystem: context.fileSystem)
        guard let last = bases.last, let first = bases.first else {
            throw StreamStoreError(.corruptCheckpoint, "The partition folder holds no segment.", path: context.folder)
        }
        let checkpointBytes = try directory.readWhole(FileNames.join(context.folder, FileNames.checkpoints), limitBytes: 4096)
        let logStart = max(checkpointBytes.flatMap(Checkpoint.decode)?.logStartOffset ?? first, first)
        let log = try File.open(FileNames.logFile(folder: context.folder, baseOffset: last), create: false, readOnly: true, fileSystem: context.fileSystem)
        let scan = try IndexBuilder.scan(log: log, logBytes: try log.size(), baseOffset: last, intervalBytes: context.config.indexIntervalBytes)
        return PublishedEnd(
            offset: scan.nextOffset, segmentBaseOffset: last, position: scan.validBytes, logStartOffset: min(logStart, scan.nextOffset),
            segmentListVersion: 0, writerGeneration: 0, activeMaxTimestamp: scan.maxTimestamp)
    }
}
