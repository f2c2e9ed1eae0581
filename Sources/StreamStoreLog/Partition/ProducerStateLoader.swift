import StreamStoreFormat
/// Rebuilds a partition's idempotent-producer state when it opens: the `producers` snapshot,
/// then the headers of every batch after the snapshot's offset (docs/FORMAT.md, "Producer
/// state"). Only batch headers are read, never records.
package enum ProducerStateLoader {
    /// Largest `producers` file accepted: a full table at the most batches per producer.
    static var maxSnapshotBytes: Int {
        ProducerSnapshot.headerBytes
            + Limits.maxProducersPerPartition * (ProducerSnapshot.entryFixedBytes + ProducerStateTable.batchesKept * ProducerSnapshot.batchBytes)
    }

    package static func load(context: PartitionContext, opened: OpenedLog) throws(StreamStoreError) -> (table: ProducerStateTable, snapshot: ProducerSnapshot?) {
        let directory = Directory(fileSystem: context.fileSystem)
        let path = FileNames.join(context.folder, FileNames.producerState)
        let bytes = try directory.readWhole(path, limitBytes: maxSnapshotBytes)
        var snapshot = bytes.flatMap { ProducerSnapshot.decode($0) }
        if bytes != nil && snapshot == nil {
            context.logger.warning("The producer state snapshot is not valid; rebuilding it from the log's batch headers.")
        }
        if let found = snapshot, found.snapshotOffset > opened.nextOffset {
            // Recovery cut the log below what the snapshot covers: the batches it remembers near
            // its end are gone, so it cannot be trusted.
            context.logger.info("The producer state snapshot covers offsets up to \(found.snapshotOffset), past the log end \(opened.nextOffset) after recovery; rebuilding it.")
            snapshot = nil
        }
        var table = snapshot?.table ?? ProducerStateTable()
        let scanFrom = snapshot?.snapshotOffset ?? (opened.segments.first?.baseOffset ?? 0)
        guard scanFrom < opened.nextOffset else { return (table, snapshot) }

        for (index, segment) in opened.segments.enumerated() {
            let isActive = index == opened.segments.count - 1
            let segmentEnd = isActive ? opened.nextOffset : (opened.segments[index + 1].baseOffset)
            guard segmentEnd > scanFrom else { continue }
            let log = isActive ? opened.activeFiles.log : try File.open(segment.logPath, create: false, fileSystem: context.fileSystem)
            let endPosition = isActive ? opened.activeSizeBytes : try log.size()
            var reader = LogReader(file: log, to: endPosition)
            let stop = try reader.forEach { batch in
                let header = batch.header
                guard header.baseOffset >= scanFrom, header.producerId >= 0, !header.isControl else { return }
                table.record(
                    producerId: header.producerId, epoch: header.producerEpoch, firstSequence: header.baseSequence,
                    count: Int(header.recordCount), baseOffset: header.baseOffset, lastOffset: header.lastOffset,
                    now: header.maxTimestamp)
            }
            if stop != .end {
                // Recovery has already cut the active segment to whole batches; a sealed one that
                // no longer scans is reported by reads and verify, not here.
                context.logger.warning("Producer state: segment \(segment.baseOffset) does not scan to its end (\(stop.sentence)).")
            }
        }
        return (table, snapshot)
    }
}
