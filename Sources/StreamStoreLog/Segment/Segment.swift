import StreamStoreFormat
/// One segment of a partition's log: a `.log` file of whole batches and its two indexes, named
/// by the base offset (docs/FORMAT.md, "Files").
///
/// A sealed segment's files are opened on demand through the store's ``SegmentFileCache`` and
/// validated the first time; the active segment's stay open. What a segment knows of itself
/// (size, next offset, newest timestamp) is fixed once it is sealed.
package final class Segment: @unchecked Sendable {
    package let baseOffset: Int64
    let folder: String
    package let logPath: String
    let offsetIndexPath: String
    let timeIndexPath: String
    package let correlationFilterPath: String
    let context: PartitionContext
    private let lock = Lock()
    private var files: SegmentFiles?
    /// True while this is the partition's active segment: its files are pinned open.
    private var pinned = false
    /// For a sealed segment: its next offset (the next segment's base), set when known.
    private var sealedNextOffset: Int64?
    private var sealedSizeBytes: Int64?
    private var sealedMaxTimestampValue: Int64?
    /// Set when retention deleted the segment: its files are gone or going.
    private var isDeleted = false
    /// Set while a correlation filter is being written (``writingCorrelationFilter(_:)``).
    private var isWritingCorrelationFilter = false

    init(baseOffset: Int64, folder: String, context: PartitionContext) {
        self.baseOffset = baseOffset
        self.folder = folder
        self.context = context
        logPath = FileNames.logFile(folder: folder, baseOffset: baseOffset)
        offsetIndexPath = FileNames.offsetIndexFile(folder: folder, baseOffset: baseOffset)
        timeIndexPath = FileNames.timeIndexFile(folder: folder, baseOffset: baseOffset)
        correlationFilterPath = FileNames.correlationFilterFile(folder: folder, baseOffset: baseOffset)
    }

    /// Makes this the active segment with these open files (new, recovered, or reopened).
    func activate(_ files: SegmentFiles) {
        lock.withLock {
            self.files = files
            pinned = true
        }
        context.cache.forget(self)
    }

    /// A reader's: the segment it saw as active was sealed by the writer. Its files are dropped,
    /// so the next read opens them again with the writer's final indexes.
    func sealForReader(nextOffset: Int64) {
        let wasPinned = lock.withLock {
            defer {
                pinned = false
                files = nil
                sealedNextOffset = nextOffset
            }
            return pinned
        }
        if wasPinned { context.cache.forget(self) }
    }

    /// The active segment's files, or nil for a sealed segment.
    var pinnedFiles: SegmentFiles? { lock.withLock { pinned ? files : nil } }

    /// Turns the active segment into a sealed one whose facts are now fixed.
    func seal(nextOffset: Int64, sizeBytes: Int64, maxTimestamp: Int64) {
        lock.withLock {
            pinned = false
            sealedNextOffset = nextOffset
            sealedSizeBytes = sizeBytes
            sealedMaxTimestampValue = maxTimestamp
        }
        context.cache.touch(self)
    }

    /// Deletes a sealed segment's files (retention). Readers that hold its open files keep
    /// reading them (the descriptors and mappings outlive the names); new opens fail with
    /// `.offsetOutOfRange`. Files are only unlinked, never truncated, so no mapping can fault.
    func delete() throws(StreamStoreError) {
        lock.withLock {
            isDeleted = true
            files = nil
        }
        context.cache.forget(self)
        let directory = Directory(fileSystem: context.fileSystem)
        try directory.remove(logPath)
        try directory.remove(offsetIndexPath)
        try directory.remove(timeIndexPath)
        try directory.remove(correlationFilterPath)
    }

    /// Runs `write`, which writes the segment's correlation filter, unless retention deleted the
    /// segment or another write of it is under way (a background build and a trace would share
    /// its temporary file); returns whether it ran and the filter stands. No lock is held while
    /// `write` runs, so a slow (low-priority) writer never holds up a reader; a filter written
    /// while retention deleted the segment is removed again, so it never outlives its log.
    func writingCorrelationFilter(_ write: () throws(StreamStoreError) -> Void) throws(StreamStoreError) -> Bool {
        let mayWrite = lock.withLock {
            guard !isDeleted, !isWritingCorrelationFilter else { return false }
            isWritingCorrelationFilter = true
            return true
        }
        guard mayWrite else { return false }
        defer { lock.withLock { isWritingCorrelationFilter = false } }
        try write()
        guard !lock.withLock({ isDeleted }) else {
            try Directory(fileSystem: context.fileSystem).remove(correlationFilterPath)
            return false
        }
        return true
    }

    /// Tells a sealed segment loaded from disk where it ends (the next segment's base offset).
    func setSealedNextOffset(_ nextOffset: Int64) {
        lock.withLock { sealedNextOffset = nextOffset }
    }

    var nextOffsetIfSealed: Int64? { lock.withLock { sealedNextOffset } }

    /// The segment's open files, opening and validating them if needed.
    package func openFiles() throws(StreamStoreError) -> SegmentFiles {
        // The cache is told outside this segment's lock: evicting takes other segments' locks,
        // and two segments must never wait on each other.
        let (opened, isPinned) = try lock.withLock { () throws(StreamStoreError) -> (SegmentFiles, Bool) in
            if let files { return (files, pinned) }
            if isDeleted {
                throw StreamStoreError(
                    .offsetOutOfRange, "Retention deleted the segment at offset \(baseOffset) while it was being read; read from the new log start offset.",
                    path: logPath, offset: baseOffset)
            }
            let opened = try openSealedFiles()
            files = opened
            return (opened, false)
        }
        if !isPinned { context.cache.touch(self) }
        return opened
    }

    /// Drops the cache's reference to a sealed segment's files (readers may still hold them).
    func closeFiles() {
        lock.withLock {
            if !pinned { files = nil }
        }
    }

    /// Size of a sealed segment's log. Only the log is looked at (its indexes are not opened),
    /// so a trace can check a segment's correlation filter without touching its indexes.
    func sealedSize() throws(StreamStoreError) -> Int64 {
        let (known, deleted) = lock.withLock { (sealedSizeBytes, isDeleted) }
        if let known { return known }
        guard !deleted else { return try openFiles().log.size() }
        let size = try File.open(logPath, create: false, readOnly: true, fileSystem: context.fileSystem).size()
        lock.withLock { sealedSizeBytes = size }
        return size
    }

    /// Newest record timestamp of a sealed segment (from its time index's final entry).
    func sealedMaxTimestamp() throws(StreamStoreError) -> Int64 {
        if let value = lock.withLock({ sealedMaxTimestampValue }) { return value }
        let files = try openFiles()
        let value = files.timeIndex.last?.timestamp ?? -1
        lock.withLock { sealedMaxTimestampValue = value }
        return value
    }

    /// Opens a sealed segment: its log read-only in spirit, its indexes validated against the
    /// log and rebuilt from it (temporary file, then rename) when in doubt.
    private func openSealedFiles() throws(StreamStoreError) -> SegmentFiles {
        let fileSystem = context.fileSystem
        if context.isReadOnly {
            // A reader rebuilds nothing on disk: a doubtful index is simply not used.
            let files = try ReaderSegmentFiles.open(
                logPath: logPath, offsetIndexPath: offsetIndexPath, timeIndexPath: timeIndexPath, baseOffset: baseOffset, limit: nil,
                fileSystem: fileSystem)
            sealedSizeBytes = try files.log.size()
            return files
        }
        let log = try File.open(logPath, create: false, fileSystem: fileSystem)
        let logBytes = try log.size()
        sealedSizeBytes = logBytes
        let entries = sealedNextOffset.map { $0 - baseOffset }
        let offsetBytes = try IndexFile.readEntries(path: offsetIndexPath, fileSystem: fileSystem)
        let timeBytes = try IndexFile.readEntries(path: timeIndexPath, fileSystem: fileSystem)
        var doubt: String?
        if let offsetBytes, let timeBytes {
            doubt = OffsetIndex.validate(offsetBytes, logBytes: logBytes, segmentEntries: entries)
                ?? TimeIndex.validate(timeBytes, segmentEntries: entries)
            if doubt == nil && logBytes > 0 && timeBytes.isEmpty {
                doubt = "the time index has no final entry"
            }
        } else {
            doubt = "an index file is missing"
        }
        if let doubt {
            context.logger.warning("Rebuilding the indexes of \(logPath): \(doubt).")
            try IndexBuilder.rebuild(segment: self, log: log, logBytes: logBytes, sealed: true, context: context)
        }
        return try openIndexes(log: log)
    }

    /// Opens both index files over their current contents.
    func openIndexes(log: File) throws(StreamStoreError) -> SegmentFiles {
        let fileSystem = context.fileSystem
        let maxIndexBytes = context.config.maxIndexBytes
        let offsetCount = try fileEntryCount(offsetIndexPath, entryBytes: OffsetIndex.entryBytes)
        let timeCount = try fileEntryCount(timeIndexPath, entryBytes: TimeIndex.entryBytes)
        let offsetFile = try IndexFile(
            path: offsetIndexPath, entryBytes: OffsetIndex.entryBytes, maxIndexBytes: maxIndexBytes,
            entryCount: offsetCount, fileSystem: fileSystem)
        let timeFile = try IndexFile(
            path: timeIndexPath, entryBytes: TimeIndex.entryBytes, maxIndexBytes: maxIndexBytes,
            entryCount: timeCount, fileSystem: fileSystem)
        return SegmentFiles(
            log: log, offsetIndex: OffsetIndex(file: offsetFile, baseOffset: baseOffset),
            timeIndex: TimeIndex(file: timeFile, baseOffset: baseOffset))
    }

    private func fileEntryCount(_ path: String, entryBytes: Int) throws(StreamStoreError) -> Int {
        let file = try File.open(path, create: true, fileSystem: context.fileSystem)
        return Int(try file.size()) / entryBytes
    }
}
