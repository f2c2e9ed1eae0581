import StreamStoreFormat
import Dispatch
import Logging

/// One partition: an ordered, append-only log of segments (docs/ARCHITECTURE.md, "An append").
///
/// Appends are serialised by the partition's lock, which is held only to assign offsets and
/// write; CRCs are computed before, fsyncs happen after (``GroupCommit``), and readers take the
/// lock only to copy a snapshot of where the log ends. Readers never block the writer.
package final class Partition: @unchecked Sendable {
    package let context: PartitionContext
    package let lock = Lock()
    /// Everything below is read and written only with `lock` held.
    package var segments: [Segment]
    var activeFiles: SegmentFiles
    package var activeSizeBytes: Int64
    package var nextOffset: Int64
    package var logStartOffset: Int64
    var cadence: IndexCadence
    /// When the active segment's first batch was appended (ms), for `segmentMilliseconds`.
    var activeFirstAppendMilliseconds: Int64?
    /// The end readers may see: for `.everyAppend`, the durable end; else the written end.
    package var visible: VisibleEnd
    /// Set when an fsync failed: the partition refuses appends until it is reopened and recovered,
    /// since a retried fsync can report success for data the kernel already dropped.
    var failure: StreamStoreError?
    var isClosed = false
    /// Tailing readers waiting for the visible end to move.
    var tailWaiters = TailWaiters()
    /// The lag gauges of the groups that commit this partition's offsets.
    var lagGauges = PartitionLagGauges()
    /// Every batch before this offset is known durable (the last value written to the checkpoint).
    var recoveryPoint: Int64
    /// The checkpoint as it is on disk, when this partition knows it (checkpoint lock held).
    var checkpointOnDisk: Checkpoint?
    /// Serialises checkpoint writes, which come from the append path, the flush queue and close.
    let checkpointLock = Lock()
    /// The zstd context of this partition's writer, made on the first compressed append.
    let compressor = Locked<ZstdCompressor?>(nil)
    /// Decompression contexts for readers, reused: a reader takes one and puts it back.
    let decompressors = Locked<[ZstdDecompressor]>([])
    /// Scratch space for one batch header, reused by every append (lock held).
    let headerScratch = UnsafeMutableRawPointer.allocate(byteCount: BatchHeader.size, alignment: 8)
    /// Idempotent producers' recent batches (lock held).
    var producers: ProducerStateTable
    /// The `producers` file as it is on disk, if any (lock held).
    var producerSnapshotOnDisk: ProducerSnapshot?
    package let groupCommit: GroupCommit
    /// The `published` file shared with reader processes: the writer publishes its visible end
    /// there; a reader takes its visible end from it. Nil for a reader of a partition no writer
    /// has opened since it was created (lock held).
    var published: PublishedEndFile?
    /// Bumped whenever the list of segments changes, published with the end (lock held).
    var segmentListVersion: UInt64 = 0
    /// A reader's: where the writer's end was when it last copied the active segment's indexes.
    var readerIndexedPosition: Int64 = 0
    /// A reader's: the writer generation of the end it last followed (lock held).
    var followedWriterGeneration: UInt64 = 0
    /// Where recent reads ended, so the next read from there starts there (see ``ReadHints``).
    let readHints = Locked(ReadHints())

    package struct VisibleEnd: Equatable {
        var offset: Int64
        package var segmentBaseOffset: Int64
        package var position: Int64
    }

    package init(
        context: PartitionContext, opened: OpenedLog, producers: ProducerStateTable = ProducerStateTable(), producerSnapshot: ProducerSnapshot? = nil,
        published: PublishedEndFile? = nil
    ) {
        self.context = context
        self.published = published
        // A writer continues the version readers know, so its restart looks like one more change.
        let previous = published?.read()
        segmentListVersion = (previous?.segmentListVersion ?? 0) &+ (context.isReadOnly ? 0 : 1)
        self.producers = producers
        self.producerSnapshotOnDisk = producerSnapshot
        segments = opened.segments
        activeFiles = opened.activeFiles
        activeSizeBytes = opened.activeSizeBytes
        nextOffset = opened.nextOffset
        logStartOffset = opened.logStartOffset
        cadence = opened.cadence
        activeFirstAppendMilliseconds = opened.activeFirstAppendMilliseconds
        recoveryPoint = opened.activeFiles.offsetIndex.baseOffset
        checkpointOnDisk = opened.checkpoint
        visible = VisibleEnd(offset: opened.nextOffset, segmentBaseOffset: opened.activeFiles.offsetIndex.baseOffset, position: opened.activeSizeBytes)
        groupCommit = GroupCommit(topic: context.topic, partition: context.partition)
        groupCommit.attach(self)
        if !context.isReadOnly { publish(visible) }
    }

    deinit { headerScratch.deallocate() }

    package var id: Int { context.partition }
    package var topic: String { context.topic }

    /// The log start and end offsets readers can see.
    package var offsets: (logStart: Int64, logEnd: Int64) {
        refreshFromWriter()
        return lock.withLock { (logStartOffset, visible.offset) }
    }

    /// Called by the flusher after an fsync that covered everything up to `end`. Returns the
    /// partition's failure instead when one happened meanwhile: an fsync that succeeds after
    /// another failed proves nothing about the data the failed one covered.
    func markDurable(_ end: VisibleEnd) -> StreamStoreError? {
        lock.withLock {
            if let failure { return failure }
            if context.config.flush == .everyAppend && end.offset > visible.offset { publish(end) }
            return nil
        }
    }

    /// Moves the end readers see and wakes the tailing readers (lock held). Readers are woken
    /// once per batch, never per record.
    func publish(_ end: VisibleEnd) {
        visible = end
        if case .writer(let live) = context.access, let published {
            published.publish(
                PublishedEnd(
                    offset: end.offset, segmentBaseOffset: end.segmentBaseOffset, position: end.position, logStartOffset: logStartOffset,
                    segmentListVersion: segmentListVersion, writerGeneration: live.writerGeneration,
                    activeMaxTimestamp: cadence.maxTimestamp))
            live.signal()
        }
        for wakeup in tailWaiters.takeAll() { wakeup.signal() }
        lagGauges.refresh(logStart: logStartOffset, logEnd: end.offset)
    }

    /// Signals `wakeup` once readers can see an offset at or past `offset` (at once when they
    /// already can), or when the partition closes.
    package func notify(_ wakeup: Wakeup, whenEndPasses offset: Int64) {
        if context.isReadOnly { refreshFromWriter() }
        let now = lock.withLock {
            if visible.offset > offset || isClosed { return true }
            tailWaiters.add(wakeup)
            return false
        }
        if now {
            wakeup.signal()
        } else if case .reader(let wake) = context.access {
            // Only once the waiter is registered: a watcher kicked earlier could look, find no
            // waiter, and sleep past this one.
            wake()
        }
    }

    /// Forgets a registration from ``notify(_:whenEndPasses:)`` that is no longer needed.
    package func cancelNotify(_ wakeup: Wakeup) {
        lock.withLock { tailWaiters.remove(wakeup) }
    }

    package var isOpen: Bool { lock.withLock { !isClosed } }

    /// The failure that fenced this partition, if any.
    var currentFailure: StreamStoreError? { lock.withLock { failure } }

    func markFailed(_ error: StreamStoreError) {
        lock.withLock {
            if failure == nil {
                failure = error
                context.logger.critical("Partition refuses appends after a failed fsync until the store is reopened: \(error)")
            }
        }
    }

    /// What the flusher must fsync to cover every write so far.
    func syncTarget() -> (file: File, end: VisibleEnd) {
        lock.withLock {
            (activeFiles.log, VisibleEnd(offset: nextOffset, segmentBaseOffset: activeFiles.offsetIndex.baseOffset, position: activeSizeBytes))
        }
    }

    /// fsyncs the active segment now.
    package func flush() async throws(StreamStoreError) {
        let end = lock.withLock { nextOffset }
        try await groupCommit.waitDurable(upTo: end)
    }

    /// Replaces the checkpoint file (atomically, through the seam).
    func writeCheckpoint(_ checkpoint: Checkpoint) throws(StreamStoreError) {
        try checkpointLock.withLock { () throws(StreamStoreError) in
            // Rewriting an identical checkpoint costs two fsyncs and changes nothing.
            guard checkpoint != checkpointOnDisk else { return }
            checkpointOnDisk = nil
            try Directory(fileSystem: context.fileSystem).writeAtomically(
                checkpoint.encoded(), to: FileNames.join(context.folder, FileNames.checkpoints), folder: context.folder)
            checkpointOnDisk = checkpoint
        }
    }

    /// Records that everything before `offset` is durable, once a sealed segment's fsync is done.
    func advanceRecoveryPoint(to offset: Int64) throws(StreamStoreError) {
        let logStart: Int64? = lock.withLock {
            guard offset > recoveryPoint, !isClosed else { return nil }
            recoveryPoint = offset
            return logStartOffset
        }
        guard let logStart else { return }
        try writeCheckpoint(Checkpoint(logStartOffset: logStart, recoveryPoint: offset))
    }

    /// Clean close: make the active segment durable, trim its indexes, and write a checkpoint that lets the next open skip recovery.
    package func close() throws(StreamStoreError) {
        // Let pending background fsyncs of sealed segments finish first: the clean checkpoint
        // below claims everything is durable.
        groupCommit.drain()
        try lock.withLock { () throws(StreamStoreError) in
            guard !isClosed else { return }
            isClosed = true
            for wakeup in tailWaiters.takeAll() { wakeup.signal() }
            if let failure { throw failure }
            // A reader changes no file of the log: it only lets go of its segments.
            if context.isReadOnly {
                for segment in segments.dropLast() {
                    context.cache.forget(segment)
                    segment.closeFiles()
                }
                return
            }
            try context.syncLog(activeFiles.log)
            try activeFiles.offsetIndex.file.trim()
            try activeFiles.timeIndex.file.trim()
            // A closed store keeps no sealed segment open, even while its objects live on.
            for segment in segments.dropLast() {
                context.cache.forget(segment)
                segment.closeFiles()
            }
            try writeProducerSnapshot()
            try writeCheckpoint(Checkpoint(
                logStartOffset: logStartOffset, recoveryPoint: nextOffset,
                cleanLogEndOffset: nextOffset, cleanActiveLogBytes: activeSizeBytes))
        }
    }

    /// What dropping the store without closing it does to a partition that is still referenced
    /// (a `Topic` kept by the application): it stops writing, as a crash would stop it. Appends
    /// and retention throw `.storeClosed`, a background fsync of a sealed segment still under
    /// way writes no checkpoint after it, and nothing is made durable or trimmed. Returns once
    /// no such background write is running, so a store opened next on the folder is alone in it.
    package func abandon() {
        lock.withLock {
            guard !isClosed else { return }
            isClosed = true
            for wakeup in tailWaiters.takeAll() { wakeup.signal() }
        }
        groupCommit.drain()
    }

    /// Replaces the `producers` file with the state as of the log end (lock held), when it
    /// changed. Partitions that hold records get one even when no idempotent producer wrote to
    /// them (an empty table): without it every open would scan all their batch headers to learn
    /// that there is nothing to remember. A partition untouched since it opened writes nothing.
    func writeProducerSnapshot() throws(StreamStoreError) {
        guard nextOffset > 0 || !producers.isEmpty || producerSnapshotOnDisk != nil else { return }
        let snapshot = ProducerSnapshot(snapshotOffset: nextOffset, table: producers)
        guard snapshot != producerSnapshotOnDisk else { return }
        producerSnapshotOnDisk = nil
        try Directory(fileSystem: context.fileSystem).writeAtomically(
            snapshot.encoded(), to: FileNames.join(context.folder, FileNames.producerState), folder: context.folder)
        producerSnapshotOnDisk = snapshot
    }
}
