import StreamStoreFormat
import StreamStoreLog
/// One reader's place in one partition: the next offset to read, where to stop, and the
/// buffers it reuses. Used by one task at a time.
final class PartitionCursor {
    let partition: Partition
    /// The next offset this cursor delivers.
    private(set) var position: Int64
    let stop: ReplayStop?
    let resetPolicy: OffsetResetPolicy
    /// Set once the cursor passed its stop: it delivers nothing more.
    private(set) var isFinished = false
    let buffers = ReadBuffers()

    init(partition: Partition, start: StartPosition, stop: ReplayStop?, resetPolicy: OffsetResetPolicy) throws(StreamStoreError) {
        self.partition = partition
        self.stop = stop
        self.resetPolicy = resetPolicy
        switch start {
        case .beginning: position = partition.offsets.logStart
        case .end: position = partition.offsets.logEnd
        case .offset(let offset): position = offset
        case .timestamp(let timestamp): position = try partition.offset(forTimestamp: timestamp)
        }
        try resetIfOutOfRange()
        if case .offset(let end) = stop, position >= end { isFinished = true }
    }

    var id: Int { partition.id }

    /// Moves a position outside the log per the reset policy (or throws for `.fail`).
    private func resetIfOutOfRange() throws(StreamStoreError) {
        let (logStart, logEnd) = partition.offsets
        guard position < logStart || position > logEnd else { return }
        switch resetPolicy {
        case .earliest: position = logStart
        case .latest: position = logEnd
        case .fail:
            let reason = position < logStart
                ? "is below the log start offset \(logStart) (retention removed it)"
                : "is past the log end offset \(logEnd)"
            throw StreamStoreError(
                .offsetOutOfRange,
                "Offset \(position) of \(quoted(partition.topic))[\(partition.id)] \(reason); start from the beginning or the end, or use reset policy .earliest or .latest.",
                topic: partition.topic, partition: partition.id, offset: position)
        }
    }

    /// The next batches, about `maxBytes` of them, restricted to the cursor's range; empty at
    /// the log end (or once finished).
    func read(maxBytes: Int) throws(StreamStoreError) -> [StoredBatch] {
        guard !isFinished else { return [] }
        guard partition.isOpen else {
            throw StreamStoreError(.storeClosed, "The store was closed while reading \(quoted(partition.topic))[\(partition.id)].", topic: partition.topic, partition: partition.id)
        }
        var batches: [StoredBatch]
        do throws(StreamStoreError) {
            batches = try partition.readBatches(from: position, maxBytes: maxBytes, buffers: buffers)
        } catch where error.code == .offsetOutOfRange {
            // Retention moved the log start past this cursor (or the log was cut) meanwhile.
            try resetIfOutOfRange()
            batches = try partition.readBatches(from: position, maxBytes: maxBytes, buffers: buffers)
        }
        guard !batches.isEmpty else { return [] }
        var upper = Int64.max
        if case .offset(let end) = stop { upper = end }
        var kept = 0
        for index in batches.indices {
            if case .timestamp(let time) = stop, batches[index].maxTimestamp > time {
                upper = min(upper, try firstOffset(after: time, in: batches[index]))
            }
            guard batches[index].baseOffset < upper, batches[index].nextOffset > position else { break }
            batches[index].offsetBounds = position..<upper
            kept = index + 1
        }
        batches.removeSubrange(kept...)
        if let last = batches.last { position = min(last.nextOffset, upper) }
        if position >= upper { isFinished = true }
        return batches
    }

    private func firstOffset(after time: Int64, in batch: StoredBatch) throws(StreamStoreError) -> Int64 {
        var found = batch.nextOffset
        do {
            try batch.forEachRecord(from: position) { record in
                if record.timestamp > time && found == batch.nextOffset { found = record.offset }
            }
        } catch {
            throw error.with(topic: partition.topic, partition: partition.id)
        }
        return found
    }

    /// Moves the cursor (for group resets and reassignments).
    func seek(to offset: Int64) throws(StreamStoreError) {
        position = offset
        isFinished = false
        try resetIfOutOfRange()
    }
}
