#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A batch of records being built for one append, encoded in place.
///
/// Each `append` writes the record straight into one growable buffer in Kafka's record format
/// (docs/FORMAT.md, "Record"); nothing is allocated per record once the buffer has grown to the
/// batch's size. Reuse a batch across appends with ``removeAll()`` to keep its buffer.
///
/// ```swift
/// var batch = RecordBatch()
/// for event in events {
///     try event.key.withUnsafeBytes { key in
///         try event.json.withUnsafeBytes { value in try batch.append(key: key, value: value) }
///     }
/// }
/// let receipt = try await topic.append(batch, partition: 0)
/// batch.removeAll()
/// ```
///
/// Timestamps: records appended without one get the append time, stamped by the partition
/// (Kafka's LogAppendTime). Once a record carries its own timestamp the batch uses create
/// time, and records without one get the time they were added to the batch.
public struct RecordBatch: Sendable {
    @usableFromInline
    var storage: BatchStorage
    /// Records in the batch.
    public private(set) var count: Int = 0
    /// Committed only once a record is written, so a rejected append leaves no trace.
    private var timestamps = TimestampState()
    var firstTimestamp: Int64 { timestamps.firstTimestamp }
    var maxTimestamp: Int64 { timestamps.maxTimestamp }
    /// True while every record so far asked for append time.
    var usesAppendTime: Bool { timestamps.usesAppendTime }

    /// Kafka idempotent-producer fields, carried in the header; -1 means none.
    public var producerId: Int64 = -1
    /// The producer's epoch: a batch with an older epoch than the partition has seen for the
    /// producer is refused with `.producerFenced`.
    public var producerEpoch: Int16 = -1
    /// The sequence number of the batch's first record in its producer's stream (0 for a new
    /// producer or epoch): a repeat is dropped, a gap is refused with `.outOfOrderSequence`.
    public var baseSequence: Int32 = -1

    /// A batch whose buffer starts with room for `capacityBytes`.
    public init(capacityBytes: Int = 16 * 1024) {
        storage = BatchStorage(capacity: max(capacityBytes, BatchHeader.size + 64))
    }

    /// Encoded size so far, the 61-byte header included.
    public var byteCount: Int { storage.count }

    /// True when the batch holds no record; appending an empty batch throws `.emptyBatch`.
    public var isEmpty: Bool { count == 0 }

    /// Empties the batch and keeps its buffer for the next one.
    public mutating func removeAll() {
        makeUnique()
        storage.count = BatchHeader.size
        count = 0
        timestamps = TimestampState()
    }

    /// Appends one record from raw buffers: the fast path (no allocation per record).
    /// A nil `key` or `value` is Kafka's null.
    public mutating func append(
        key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, headers: [RecordHeader] = [],
        timestamp: Int64? = nil
    ) throws(StreamStoreError) {
        guard count < Limits.maxRecordsPerBatch else {
            throw StreamStoreError(.batchTooLarge, "A batch holds at most \(Limits.maxRecordsPerBatch) records; append the rest in another batch.")
        }
        guard headers.count <= Limits.maxHeadersPerRecord else {
            throw StreamStoreError(.tooManyHeaders, "A record has \(headers.count) headers; at most \(Limits.maxHeadersPerRecord) are allowed.")
        }
        let (timestampDelta, timestampState) = resolveTimestamp(timestamp)
        let offsetDelta = Int64(count)
        let keyLength = key.map { Int64($0.count) } ?? -1
        let valueLength = value.map { Int64($0.count) } ?? -1

        var bodySize = 1 + Varint.size(timestampDelta) + Varint.size(offsetDelta)
        bodySize += Varint.size(keyLength) + max(0, Int(keyLength))
        bodySize += Varint.size(valueLength) + max(0, Int(valueLength))
        bodySize += Varint.size(Int64(headers.count))
        for header in headers {
            let keyBytes = header.key.utf8.count
            guard keyBytes <= Limits.maxHeaderKeyBytes else {
                throw StreamStoreError(.invalidConfig, "Header key of \(keyBytes) bytes is longer than \(Limits.maxHeaderKeyBytes).")
            }
            let valueBytes = header.value.map { Int64($0.count) } ?? -1
            bodySize += Varint.size(Int64(keyBytes)) + keyBytes + Varint.size(valueBytes) + max(0, Int(valueBytes))
        }
        let recordSize = Varint.size(Int64(bodySize)) + bodySize
        guard recordSize <= Limits.maxRecordBytes else {
            throw StreamStoreError(.recordTooLarge, "A record of \(recordSize) bytes is over the \(Limits.maxRecordBytes)-byte limit; store large payloads elsewhere and append a reference.")
        }
        guard storage.count + recordSize <= Limits.maxBatchBytes else {
            throw StreamStoreError(.batchTooLarge, "The batch would grow past \(Limits.maxBatchBytes) bytes; append it and start another.")
        }

        makeUnique()
        storage.reserve(storage.count + recordSize)
        var cursor = storage.bytes + storage.count
        cursor += Varint.write(Int64(bodySize), to: cursor)
        cursor.storeBytes(of: 0, as: UInt8.self)
        cursor += 1
        cursor += Varint.write(timestampDelta, to: cursor)
        cursor += Varint.write(offsetDelta, to: cursor)
        cursor += Varint.write(keyLength, to: cursor)
        if let key, let source = key.baseAddress, key.count > 0 {
            cursor.copyMemory(from: source, byteCount: key.count)
            cursor += key.count
        }
        cursor += Varint.write(valueLength, to: cursor)
        if let value, let source = value.baseAddress, value.count > 0 {
            cursor.copyMemory(from: source, byteCount: value.count)
            cursor += value.count
        }
        cursor += Varint.write(Int64(headers.count), to: cursor)
        for header in headers {
            var name = header.key
            name.withUTF8 { utf8 in
                cursor += Varint.write(Int64(utf8.count), to: cursor)
                if let source = utf8.baseAddress, utf8.count > 0 {
                    cursor.copyMemory(from: source, byteCount: utf8.count)
                    cursor += utf8.count
                }
            }
            if let headerValue = header.value {
                cursor += Varint.write(Int64(headerValue.count), to: cursor)
                headerValue.withUnsafeBytes { bytes in
                    if let source = bytes.baseAddress, bytes.count > 0 {
                        cursor.copyMemory(from: source, byteCount: bytes.count)
                        cursor += bytes.count
                    }
                }
            } else {
                cursor += Varint.write(-1, to: cursor)
            }
        }
        assert(cursor == storage.bytes + storage.count + recordSize, "record size computed wrong")
        storage.count += recordSize
        count += 1
        timestamps = timestampState
    }

    /// Appends a record given as arrays.
    public mutating func append(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64? = nil) throws(StreamStoreError) {
        try Self.withOptionalBytes(key) { (keyBytes) throws(StreamStoreError) in
            try Self.withOptionalBytes(value) { (valueBytes) throws(StreamStoreError) in
                try append(key: keyBytes, value: valueBytes, headers: headers, timestamp: timestamp)
            }
        }
    }

    /// Appends a ``Record``.
    public mutating func append(_ record: Record) throws(StreamStoreError) {
        try append(key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp)
    }

    private static func withOptionalBytes<T>(
        _ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws(StreamStoreError) -> T
    ) throws(StreamStoreError) -> T {
        guard let bytes else { return try body(nil) }
        return try withBytes(bytes) { (buffer) throws(StreamStoreError) in try body(buffer) }
    }

    /// The batch's timestamp type and range.
    private struct TimestampState {
        var usesAppendTime = true
        var firstTimestamp: Int64 = 0
        var maxTimestamp: Int64 = 0
    }

    /// The delta to write for a record with `timestamp`, and the batch's timestamp state once
    /// that record is in. Nothing changes here: `append` commits the state after its checks pass.
    ///
    /// Deltas wrap (`&-`), as Kafka's Java `long` arithmetic does and as the decoder's `&+`
    /// undoes, so any two timestamps round-trip instead of trapping.
    private func resolveTimestamp(_ timestamp: Int64?) -> (delta: Int64, state: TimestampState) {
        var state = timestamps
        if state.usesAppendTime {
            guard let timestamp else { return (0, state) }
            // The first record with a timestamp of its own switches the batch to create time;
            // the records before it take the current time, their delta of 0 from it.
            let now = count == 0 ? timestamp : SystemClock.milliseconds()
            state.usesAppendTime = false
            state.firstTimestamp = now
            state.maxTimestamp = max(now, timestamp)
            return (timestamp &- state.firstTimestamp, state)
        }
        let value = timestamp ?? SystemClock.milliseconds()
        state.maxTimestamp = max(state.maxTimestamp, value)
        return (value &- state.firstTimestamp, state)
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// The finished header for this batch, CRC included, with base offset 0: the partition
    /// sets the base offset (it is outside the CRC) when it assigns offsets, and writes the
    /// header and ``recordBytes`` side by side. The batch itself is never modified, so one batch
    /// value can be appended to several partitions at once.
    func sealedHeader(appendTimeMilliseconds: Int64) -> BatchHeader {
        sealedHeader(appendTimeMilliseconds: appendTimeMilliseconds, body: recordBytes, codec: 0)
    }

    /// The header for this batch written with `body` as its records section: the encoded records
    /// themselves (codec 0), or them compressed with `codec`. The CRC covers `body`.
    package func sealedHeader(appendTimeMilliseconds: Int64, body: UnsafeRawBufferPointer, codec: Int16) -> BatchHeader {
        let appendTime = usesAppendTime
        var header = BatchHeader(
            baseOffset: 0,
            batchLength: Int32(BatchHeader.size - BatchHeader.lengthPrefixSize + body.count),
            attributes: (appendTime ? BatchHeader.Attribute.logAppendTime : 0) | codec,
            lastOffsetDelta: Int32(count - 1),
            baseTimestamp: appendTime ? appendTimeMilliseconds : firstTimestamp,
            maxTimestamp: appendTime ? appendTimeMilliseconds : maxTimestamp,
            producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence,
            recordCount: Int32(count))
        header.crc = withUnsafeTemporaryAllocation(byteCount: BatchHeader.size, alignment: 8) { scratch in
            let base = scratch.baseAddress!
            header.store(to: base)
            let covered = UnsafeRawBufferPointer(start: base + BatchHeader.Field.attributes, count: BatchHeader.size - BatchHeader.Field.attributes)
            return CRC32C.checksum(body, continuing: CRC32C.checksum(covered))
        }
        return header
    }

    /// The encoded records, after the header's reserved space.
    var recordBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.bytes + BatchHeader.size, count: storage.count - BatchHeader.size)
    }

    /// Keeps the storage alive while `body` uses ``recordBytes``.
    package func withRecordBytes<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        try withExtendedLifetime(storage) { () throws(E) -> T in try body(recordBytes) }
    }

    /// The timestamp limit check needs the largest caller-supplied timestamp.
    package var maxCreateTimestamp: Int64? { usesAppendTime ? nil : maxTimestamp }
}

/// The growable buffer behind a ``RecordBatch``.
@usableFromInline
final class BatchStorage: @unchecked Sendable {
    // Safe to send: only mutated through RecordBatch, which copies it first unless it holds the
    // only reference (copy on write). The same reason makes dynamic exclusivity checks redundant,
    // and they cost about a fifth of the encode time on the per-record path.
    @exclusivity(unchecked) var bytes: UnsafeMutableRawPointer
    @exclusivity(unchecked) var capacity: Int
    @exclusivity(unchecked) var count: Int

    init(capacity: Int) {
        self.capacity = capacity
        bytes = .allocate(byteCount: capacity, alignment: 16)
        count = BatchHeader.size
    }

    deinit { bytes.deallocate() }

    func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBytes = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBytes.copyMemory(from: bytes, byteCount: count)
        bytes.deallocate()
        bytes = newBytes
        capacity = newCapacity
    }

    func copy() -> BatchStorage {
        let clone = BatchStorage(capacity: capacity)
        clone.bytes.copyMemory(from: bytes, byteCount: count)
        clone.count = count
        return clone
    }
}

extension RecordBatch {
    /// The whole encoded batch as it would be written at `baseOffset`: header, CRC, records.
    /// For tools and tests; the append path writes header and records without this copy.
    package func encoded(baseOffset: Int64, appendTimeMilliseconds: Int64, partitionLeaderEpoch: Int32 = 0) -> [UInt8] {
        var header = sealedHeader(appendTimeMilliseconds: appendTimeMilliseconds)
        header.baseOffset = baseOffset
        header.partitionLeaderEpoch = partitionLeaderEpoch
        var bytes = [UInt8](repeating: 0, count: BatchHeader.size)
        bytes.withUnsafeMutableBytes { header.store(to: $0.baseAddress!) }
        withRecordBytes { bytes.append(contentsOf: $0) }
        return bytes
    }
}
