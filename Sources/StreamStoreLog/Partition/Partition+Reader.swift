import StreamStoreFormat

/// A partition in a reader process: its end, start and segments follow what the writer process
/// publishes in the partition's `published` file (docs/ARCHITECTURE.md, "Many processes, one
/// store").
extension Partition {
    /// True while a tailing reader waits for this partition to grow.
    package var hasTailWaiters: Bool { lock.withLock { !tailWaiters.isEmpty } }

    /// A reader's catch-up with the writer: takes the newest published end and, when the writer
    /// rolled, deleted or recovered segments meanwhile, lists the folder again. Wakes the tailing
    /// readers when the end moved. Does nothing in the writer. Cheap when nothing changed (one
    /// read of two shared slots).
    package func refreshFromWriter() {
        guard context.isReadOnly else { return }
        if lock.withLock({ published == nil }) {
            // The writer may have opened the partition since this reader did.
            let opened = try? PublishedEndFile.openForReading(folder: context.folder, fileSystem: context.fileSystem)
            lock.withLock { published = published ?? opened }
        }
        guard let end = lock.withLock({ published })?.read() else { return }
        let waiters: [Wakeup] = lock.withLock {
            let unchanged = end.offset == visible.offset && end.logStartOffset == logStartOffset && end.segmentListVersion == segmentListVersion
                && end.segmentBaseOffset == visible.segmentBaseOffset && end.activeMaxTimestamp == cadence.maxTimestamp
            if unchanged { return [] }
            do throws(StreamStoreError) {
                try follow(end)
            } catch {
                // A segment vanished between the listing and the open (retention in the writer):
                // the next refresh lists again.
                context.logger.debug("Could not follow the writer yet: \(error)")
                return []
            }
            return tailWaiters.takeAll()
        }
        for wakeup in waiters { wakeup.signal() }
    }

    /// Moves this reader's view to `end` (lock held): the segment list when the writer changed
    /// it, a reopened active segment when the end left it or went back, then the end itself.
    private func follow(_ end: PublishedEnd) throws(StreamStoreError) {
        let activeBase = segments.last?.baseOffset
        let wentBack = end.offset < visible.offset
        // A writer's recovery may have cut the active segment and written other batches where
        // the hints point.
        if wentBack || end.writerGeneration != followedWriterGeneration { readHints.withLock { $0.removeAll() } }
        followedWriterGeneration = end.writerGeneration
        if end.segmentListVersion != segmentListVersion || end.segmentBaseOffset != activeBase || wentBack {
            let names = try Directory(fileSystem: context.fileSystem).list(context.folder)
            let bases = names.compactMap { FileNames.baseOffset(ofSegmentFile: $0) }.sorted()
            let fresh = try PartitionLoader.readerSegments(bases: bases, end: end, context: context)
            let known = Dictionary(segments.map { ($0.baseOffset, $0) }, uniquingKeysWith: { first, _ in first })
            var followed: [Segment] = []
            for (index, segment) in fresh.enumerated() {
                let isActive = index == fresh.count - 1
                if let existing = known[segment.baseOffset], !(isActive && wentBack) {
                    if !isActive {
                        // The old active segment is sealed now: its files reopen with the final indexes.
                        existing.sealForReader(nextOffset: fresh[index + 1].baseOffset)
                    }
                    followed.append(existing)
                } else {
                    followed.append(segment)
                }
            }
            segments = followed
        }
        if let active = segments.last, active.baseOffset == end.segmentBaseOffset,
            activeFilesNeedRefresh(end: end, active: active) || wentBack
        {
            let files: SegmentFiles
            if activeFiles === active.pinnedFiles, !wentBack {
                // The same active segment, grown: only the new index entries are read.
                files = try ReaderSegmentFiles.refreshed(
                    activeFiles, offsetIndexPath: active.offsetIndexPath, timeIndexPath: active.timeIndexPath, baseOffset: active.baseOffset,
                    limit: (end.offset, end.position), fileSystem: context.fileSystem)
            } else {
                files = try PartitionLoader.readerFiles(of: active, end: end, context: context)
            }
            active.activate(files)
            activeFiles = files
            readerIndexedPosition = end.position
        }
        visible = VisibleEnd(offset: end.offset, segmentBaseOffset: end.segmentBaseOffset, position: end.position)
        cadence.restore(bytesSinceLastEntry: 0, maxTimestamp: end.activeMaxTimestamp, lastTimeEntryTimestamp: end.activeMaxTimestamp)
        activeSizeBytes = end.position
        nextOffset = end.offset
        logStartOffset = end.logStartOffset
        segmentListVersion = end.segmentListVersion
    }

    /// True when the active segment is new to this reader, or its index copy lags the writer by
    /// more than ``Limits/readerIndexRefreshBytes`` (lookups would scan that far).
    private func activeFilesNeedRefresh(end: PublishedEnd, active: Segment) -> Bool {
        guard activeFiles === active.pinnedFiles else { return true }
        return end.position - readerIndexedPosition > Limits.readerIndexRefreshBytes
    }
}
