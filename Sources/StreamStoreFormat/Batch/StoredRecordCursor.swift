/// The records of one read's batches, decoded one at a time as they are asked for.
///
/// The record-level readers (a replay's records, a consumer's records) hand each record out the
/// moment it is decoded: no array of records per read, so a record costs its decoding and the one
/// reference its key and value slices hold on the read buffer, and nothing else. A record the
/// caller drops before asking for the next is freed at once; one it keeps shares the read
/// buffer, as every ``StoredRecord`` of a read does.
///
/// A malformed record (in a batch whose CRC32C passed: a writer's bug, not a disk's) is
/// `.corruptBatch` once the records of the batch before it were handed out; the cursor then
/// goes on with the next batch.
package struct StoredRecordCursor {
    private var batches: [StoredBatch] = []
    /// The next batch of `batches` to walk.
    private var nextBatch = 0
    /// The records of the batch being walked lie in `bytes`, from `position` to `end`.
    private var bytes: [UInt8] = []
    private var position = 0
    private var end = 0
    private var header = BatchHeader(baseOffset: 0, batchLength: 0, attributes: 0, lastOffsetDelta: 0, baseTimestamp: 0, maxTimestamp: 0, recordCount: 0)
    /// Records of the batch decoded so far, and how many it holds (0 once it is done).
    private var decoded: Int32 = 0
    private var count: Int32 = 0
    /// The offsets the caller wants: records outside are decoded and passed over.
    private var lower: Int64 = 0
    private var upper: Int64 = .max
    private let startOffset: Int64
    /// The partition the current batch was read from (before the first record, the first
    /// batch's; a read's batches are all of one partition).
    package private(set) var partition = 0

    /// A cursor with nothing to hand out.
    package init() { startOffset = 0 }

    /// A cursor over the records of `batches` whose offsets are at least `startOffset` (and
    /// inside each batch's replay range).
    package init(batches: [StoredBatch], from startOffset: Int64 = 0) {
        self.batches = batches
        self.startOffset = startOffset
        partition = batches.first?.partition ?? 0
    }

    /// The next record; nil once every batch is walked. Throws `.corruptBatch` for a malformed
    /// record or a batch still compressed (without a topic or partition: the caller adds them),
    /// and goes on with the next batch when called again.
    @inline(__always)
    package mutating func next() throws(StreamStoreError) -> StoredRecord? {
        while true {
            if decoded < count {
                if let record = try decodeNext() { return record }
                continue
            }
            guard nextBatch < batches.count else {
                if !bytes.isEmpty { bytes = [] }
                return nil
            }
            try open(batches[nextBatch])
            nextBatch += 1
        }
    }

    /// Starts walking `batch`.
    private mutating func open(_ batch: StoredBatch) throws(StreamStoreError) {
        count = 0
        decoded = 0
        guard !batch.isControl, batch.header.recordCount > 0 else { return }
        guard !batch.isCompressed else {
            throw StreamStoreError(.corruptBatch, "The batch at offset \(batch.baseOffset) is still compressed.", offset: batch.baseOffset)
        }
        bytes = batch.bytes
        position = batch.records.lowerBound
        end = batch.records.upperBound
        header = batch.header
        partition = batch.partition
        lower = max(startOffset, batch.offsetBounds.lowerBound)
        upper = batch.offsetBounds.upperBound
        count = batch.header.recordCount
    }

    /// Decodes the record at `position`: the record when it is in range, nil when it is not.
    @inline(__always)
    private mutating func decodeNext() throws(StreamStoreError) -> StoredRecord? {
        let (position, end, header, index) = (self.position, self.end, self.header, decoded)
        let decoded: (layout: RecordLayout, next: Int)
        do throws(StreamStoreError) {
            decoded = try withBytes(bytes) { (raw) throws(StreamStoreError) -> (layout: RecordLayout, next: Int) in
                let decoder = RecordDecoder(buffer: raw, records: position..<end, header: header)
                let found = try decoder.record(at: position, index: index)
                if index + 1 == header.recordCount { try decoder.requireEnd(at: found.end) }
                return (found.layout, found.end)
            }
        } catch {
            count = 0
            throw error
        }
        self.position = decoded.next
        self.decoded += 1
        let layout = decoded.layout
        guard layout.offset >= lower && layout.offset < upper else { return nil }
        return StoredRecord(partition: partition, layout: layout, storage: bytes)
    }
}
