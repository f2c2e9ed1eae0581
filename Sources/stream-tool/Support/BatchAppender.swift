import StreamStore

/// Collects records into one batch per partition and appends each batch once it is full, so
/// `produce` makes one append per thousand records rather than one per record.
///
/// Adding is synchronous and appending is `async`: the caller adds the records of a chunk of
/// input, then awaits ``appendReady()``. With offset tracking on, the offset of every record is
/// written to `offsets` in the order the records were added, as soon as its batch is appended
/// (batches of different partitions fill at different speeds, so that can be later).
final class BatchAppender {
    /// A batch is appended at this many records...
    let recordsPerBatch: Int
    /// ...or at this many bytes, whichever comes first.
    let bytesPerBatch: Int

    let topic: Topic
    private var open: [RecordBatch]
    /// Numbers the batches of each partition, so a tracked record can find its batch's offset.
    private var openSerial: [Int]
    private var ready: [(partition: Int, serial: Int, batch: RecordBatch)] = []
    /// The receipts of appended batches whose tracked records are not all printed yet.
    private var receipts: [[Int: AppendReceipt]]

    private struct TrackedRecord {
        var partition: Int32
        var indexInBatch: Int32
        var serial: Int
    }

    private let offsets: BufferedOutput?
    private var tracked: [TrackedRecord] = []
    private var trackedHead = 0

    private(set) var appendedRecords = 0
    private(set) var appendedBatches = 0
    private(set) var appendedBytes: Int64 = 0
    /// Records the store left out as duplicates (de-duplication window, idempotent retries).
    private(set) var duplicateRecords = 0

    init(topic: Topic, offsets: BufferedOutput?, recordsPerBatch: Int = 1000, bytesPerBatch: Int = 1 << 20) {
        self.topic = topic
        self.offsets = offsets
        self.recordsPerBatch = recordsPerBatch
        self.bytesPerBatch = bytesPerBatch
        let count = topic.partitionCount
        open = (0..<count).map { _ in RecordBatch(capacityBytes: 64 * 1024) }
        openSerial = Array(repeating: 0, count: count)
        receipts = Array(repeating: [:], count: count)
    }

    /// Records added but not yet appended.
    var pendingRecords: Int {
        open.reduce(0) { $0 + $1.count } + ready.reduce(0) { $0 + $1.batch.count }
    }

    /// Adds a record to `partition`'s batch (which must exist). A record the store would refuse
    /// (too large, too many headers) throws here and leaves the batch as it was.
    func add(
        partition: Int, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, headers: [RecordHeader], timestamp: Int64?
    ) throws(StreamStoreError) {
        try open[partition].append(key: key, value: value, headers: headers, timestamp: timestamp)
        didAdd(partition)
    }

    func add(partition: Int, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], timestamp: Int64?) throws(StreamStoreError) {
        try open[partition].append(key: key, value: value, headers: headers, timestamp: timestamp)
        didAdd(partition)
    }

    private func didAdd(_ partition: Int) {
        if offsets != nil {
            tracked.append(TrackedRecord(partition: Int32(partition), indexInBatch: Int32(open[partition].count - 1), serial: openSerial[partition]))
        }
        if open[partition].count >= recordsPerBatch || open[partition].byteCount >= bytesPerBatch {
            seal(partition)
        }
        // A partition that rarely fills would hold back every tracked offset behind it.
        if tracked.count - trackedHead > 100 * recordsPerBatch {
            for index in open.indices where !open[index].isEmpty { seal(index) }
        }
    }

    private func seal(_ partition: Int) {
        ready.append((partition, openSerial[partition], open[partition]))
        open[partition] = RecordBatch(capacityBytes: 64 * 1024)
        openSerial[partition] += 1
    }

    /// Appends every full batch. When an append fails, the offsets of the batches appended
    /// before it are written all the same: they are acknowledged.
    func appendReady() async throws(StreamStoreError) {
        var index = 0
        defer {
            ready.removeFirst(index)
            writeKnownOffsets()
        }
        while index < ready.count {
            let (partition, serial, batch) = ready[index]
            let receipt = try await topic.append(batch, partition: partition)
            index += 1
            appendedRecords += receipt.recordCount
            duplicateRecords += receipt.duplicates.count
            appendedBatches += 1
            appendedBytes += Int64(batch.byteCount)
            if offsets != nil { receipts[partition][serial] = receipt }
        }
    }

    /// Appends every batch, full or not.
    func appendAll() async throws(StreamStoreError) {
        for partition in open.indices where !open[partition].isEmpty { seal(partition) }
        try await appendReady()
    }

    /// After a failed append: writes a line for every tracked record up to the last one that
    /// was written, `PARTITION OFFSET` for the written and `PARTITION -` for the others, so every
    /// record that landed is acknowledged and each line still belongs to the input record of
    /// its number. The records after the last written one get no line.
    func writeOffsetsAfterFailure() {
        guard let offsets else { return }
        writeKnownOffsets()
        guard let lastWritten = tracked[trackedHead...].lastIndex(where: { receipts[Int($0.partition)][$0.serial] != nil }) else { return }
        while trackedHead <= lastWritten {
            let record = tracked[trackedHead]
            if let receipt = receipts[Int(record.partition)][record.serial] {
                let placed = Self.placement(of: record, in: receipt)
                offsets.appendDecimal(Int64(placed.partition))
                offsets.append(UInt8(ascii: " "))
                offsets.appendDecimal(placed.offset)
            } else {
                offsets.appendDecimal(Int64(record.partition))
                offsets.append(" -")
            }
            offsets.append(UInt8(ascii: "\n"))
            trackedHead += 1
        }
    }

    /// Where a tracked record of an appended batch landed; a duplicate, where its original did.
    private static func placement(of record: TrackedRecord, in receipt: AppendReceipt) -> (partition: Int, offset: Int64) {
        receipt.duplicates.isEmpty
            ? (partition: Int(record.partition), offset: receipt.baseOffset + Int64(record.indexInBatch))
            : receipt.offset(ofRecordAt: Int(record.indexInBatch))
    }

    /// Writes `PARTITION OFFSET` for the tracked records, in order, up to the first whose batch
    /// is not appended yet. A duplicate gets its original's partition and offset.
    private func writeKnownOffsets() {
        guard let offsets else { return }
        while trackedHead < tracked.count {
            let record = tracked[trackedHead]
            let partition = Int(record.partition)
            guard let receipt = receipts[partition][record.serial] else { break }
            let placed = Self.placement(of: record, in: receipt)
            offsets.appendDecimal(Int64(placed.partition))
            offsets.append(UInt8(ascii: " "))
            offsets.appendDecimal(placed.offset)
            offsets.append(UInt8(ascii: "\n"))
            trackedHead += 1
        }
        if trackedHead == tracked.count {
            // Every offset so far is written: the base offsets of the appended batches are spent.
            for partition in receipts.indices { receipts[partition].removeAll(keepingCapacity: true) }
            tracked.removeAll(keepingCapacity: true)
            trackedHead = 0
        } else if trackedHead > 65_536 && trackedHead * 2 > tracked.count {
            tracked.removeFirst(trackedHead)
            trackedHead = 0
        }
    }
}
