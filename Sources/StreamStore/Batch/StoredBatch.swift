/// One batch read back from a partition: its header fields and its records, decoded on demand
/// from the buffer the read filled. The batch-level read API hands these out so replay loops
/// can walk records without creating an object per record.
public struct StoredBatch: Sendable {
    /// The buffer holding the batch's records (a read buffer shared by the batches of one
    /// read, or a decompression buffer).
    let bytes: [UInt8]
    /// Where the records lie in `bytes`.
    let records: Range<Int>
    let header: BatchHeader
    /// True while `records` holds the compressed frame as read from disk: readers hand out
    /// decompressed batches only.
    let isCompressed: Bool

    init(bytes: [UInt8], records: Range<Int>, header: BatchHeader) {
        self.bytes = bytes
        self.records = records
        self.header = header
        isCompressed = header.compressionCodec != 0
    }

    private init(decompressed bytes: [UInt8], header: BatchHeader) {
        self.bytes = bytes
        self.records = 0..<bytes.count
        self.header = header
        isCompressed = false
    }

    public var baseOffset: Int64 { header.baseOffset }
    public var lastOffset: Int64 { header.lastOffset }
    /// The offset after this batch's last.
    public var nextOffset: Int64 { header.nextOffset }
    public var recordCount: Int { Int(header.recordCount) }
    /// Room a reader may reserve for this batch's records: the header's count, but no more than
    /// its record bytes can hold (a record takes at least 7), so a damaged count that the CRC
    /// vouches for cannot make a reader allocate more than the batch (found by FuzzBatchDecoder).
    var reservableRecordCount: Int { isCompressed ? 0 : min(recordCount, records.count / RecordDecoder.minimumRecordBytes) }
    /// Largest record timestamp in the batch (the append time for append-time batches).
    public var maxTimestamp: Int64 { header.maxTimestamp }
    /// Size on disk, header included.
    public var byteCount: Int { header.totalBytes }
    public var producerId: Int64 { header.producerId }
    public var producerEpoch: Int16 { header.producerEpoch }
    public var baseSequence: Int32 { header.baseSequence }

    /// The same batch with its records decompressed into a buffer of their own.
    /// `position` names where the batch lies, for the error a bad frame gives.
    func decompressed(with decompressor: ZstdDecompressor, position: String) throws(StreamStoreError) -> StoredBatch {
        guard isCompressed else { return self }
        let outcome = bytes.withUnsafeBytes { raw in
            decompressor.decompress(UnsafeRawBufferPointer(rebasing: raw[records]), limitBytes: Limits.maxBatchBytes)
        }
        switch outcome {
        case .success(let plain):
            return StoredBatch(decompressed: plain, header: header)
        case .failure(let failure):
            let reason: String
            switch failure {
            case .tooLarge: reason = "it decompresses to more than the \(Limits.maxBatchBytes)-byte batch limit"
            case .truncated: reason = "its zstd frame is cut short"
            case .malformed(let detail): reason = "its zstd frame is invalid (\(detail))"
            }
            throw StreamStoreError(
                .corruptBatch, "The compressed batch at offset \(header.baseOffset) (\(position)) cannot be read: \(reason). Run `stream-tool verify`.",
                offset: header.baseOffset)
        }
    }

    /// True for a Kafka control batch (a transaction marker): it takes offsets but holds no
    /// application records, so record-level reads skip it, as Kafka consumers do.
    public var isControl: Bool { header.isControl }

    /// Calls `body` with a view of each record whose offset is at least `startOffset`.
    /// The view's buffers are valid only during the call. No allocation per record.
    /// Control batches have no records to visit.
    public func forEachRecord(from startOffset: Int64 = 0, _ body: (RecordView) throws -> Void) throws {
        guard !header.isControl else { return }
        try requireDecompressed()
        try bytes.withUnsafeBytes { buffer in
            let decoder = RecordDecoder(buffer: buffer, records: records, header: header)
            try decoder.forEach { layout in
                if layout.offset >= startOffset {
                    try body(RecordView(layout: layout, decoder: decoder))
                }
                return true
            }
        }
    }

    /// The records whose offset is at least `startOffset`, as values that share this batch's
    /// buffer (no copy of keys or values).
    private func requireDecompressed() throws(StreamStoreError) {
        guard !isCompressed else {
            throw StreamStoreError(.corruptBatch, "The batch at offset \(header.baseOffset) is still compressed.", offset: header.baseOffset)
        }
    }

    public func storedRecords(from startOffset: Int64 = 0) throws -> [StoredRecord] {
        var result: [StoredRecord] = []
        result.reserveCapacity(reservableRecordCount)
        try appendRecords(from: startOffset, to: &result)
        return result
    }

    func appendRecords(from startOffset: Int64, to result: inout [StoredRecord]) throws {
        guard !header.isControl else { return }
        try requireDecompressed()
        let bytes = self.bytes
        try bytes.withUnsafeBytes { buffer in
            let decoder = RecordDecoder(buffer: buffer, records: records, header: header)
            try decoder.forEach { layout in
                if layout.offset >= startOffset {
                    result.append(
                        StoredRecord(
                            offset: layout.offset, timestamp: layout.timestamp,
                            key: layout.key.map { bytes[$0] }, value: layout.value.map { bytes[$0] },
                            headers: decoder.headers(of: layout)))
                }
                return true
            }
        }
    }
}

/// A record inside ``StoredBatch/forEachRecord(from:_:)``: raw views into the read buffer,
/// valid only for the duration of the call.
public struct RecordView {
    let layout: RecordLayout
    let decoder: RecordDecoder

    public var offset: Int64 { layout.offset }
    public var timestamp: Int64 { layout.timestamp }
    /// The key bytes, or nil for a null key.
    public var key: UnsafeRawBufferPointer? { layout.key.map { UnsafeRawBufferPointer(rebasing: decoder.buffer[$0]) } }
    /// The value bytes, or nil for a null value.
    public var value: UnsafeRawBufferPointer? { layout.value.map { UnsafeRawBufferPointer(rebasing: decoder.buffer[$0]) } }
    public var headerCount: Int { layout.headerCount }
    /// Decodes the headers (allocates; call only when needed).
    public var headers: [RecordHeader] { decoder.headers(of: layout) }

    /// The value of the first header named `key`, without allocating: nil when the record has
    /// no such header, `.some(nil)` when its value is null. Valid only during the call.
    public func headerValue(forKey key: String) -> UnsafeRawBufferPointer?? {
        guard layout.headerCount > 0 else { return nil }
        var name = key
        return name.withUTF8 { wanted in decoder.headerValue(of: layout, forKey: UnsafeRawBufferPointer(wanted)) }
    }
}
