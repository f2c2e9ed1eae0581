/// Splits a buffer of consecutive batches, as read from a `.log` file, into checked batches.
package enum BatchParser {
    /// What parsing a buffer found: the whole batches at its start, and why it stopped.
    package struct Result {
        package var batches: [StoredBatch]
        /// Bytes of `buffer` consumed by whole batches.
        package var consumedBytes: Int
        /// Set when a batch failed its checks (and `consumedBytes` is where it starts).
        package var corruption: String?
        /// Set when the buffer ended inside a batch: the bytes that batch needs in all.
        package var incompleteBatchBytes: Int?
    }

    /// Parses `buffer` from `start` up to `end` (default: its count). Batches share `buffer`;
    /// nothing is copied or decompressed.
    ///
    /// With `budget`, parsing stops after the batch that brings the batches ending past
    /// `budget.from` to `budget.bytes` (counting what a reader hands out: a compressed batch's
    /// declared plain size, else its size), so a reader whose buffer holds more than it will
    /// return does not check the rest (for zstd batches, several times its budget).
    package static func parse(
        _ buffer: [UInt8], from start: Int = 0, end: Int? = nil, expectedBaseOffset: Int64? = nil, maxBatches: Int = .max,
        budget: (from: Int64, bytes: Int)? = nil
    ) -> Result {
        var result = Result(batches: [], consumedBytes: 0)
        var position = start
        var expected = expectedBaseOffset
        var spentBytes = 0
        let end = min(end ?? buffer.count, buffer.count)
        buffer.withUnsafeBytes { whole in
            let raw = UnsafeRawBufferPointer(rebasing: whole[0..<end])
            parsing: while result.batches.count < maxBatches {
                switch BatchHeader.probe(raw, at: position, expectedBaseOffset: expected) {
                case .valid(let header):
                    // Compressed batches stay compressed here: a reader decompresses only the
                    // batches it returns (StoredBatch.decompressed(with:)).
                    guard header.compressionCodec == 0 || header.compressionCodec == Int(Compression.zstdCodecID) else {
                        result.corruption = "batch at offset \(header.baseOffset) uses compression codec \(header.compressionCodec) (1 gzip, 2 snappy, 3 lz4), which StreamStore does not read; only none and zstd are supported"
                        return
                    }
                    let records = (position + BatchHeader.size)..<(position + header.totalBytes)
                    let batch = StoredBatch(bytes: buffer, records: records, header: header)
                    result.batches.append(batch)
                    position += header.totalBytes
                    expected = expected.map { _ in header.nextOffset }
                    if let budget, header.nextOffset > budget.from {
                        spentBytes += batch.declaredPlainBytes ?? batch.byteCount
                        if spentBytes >= budget.bytes { break parsing }
                    }
                case .incomplete(let available):
                    if available >= BatchHeader.lengthPrefixSize {
                        let length = BigEndian.load(Int32.self, raw.baseAddress! + position, BatchHeader.Field.batchLength)
                        result.incompleteBatchBytes = Int(length) + BatchHeader.lengthPrefixSize
                    } else if available > 0 {
                        result.incompleteBatchBytes = BatchHeader.lengthPrefixSize
                    }
                    return
                case .corrupt(let reason):
                    result.corruption = reason
                    return
                }
            }
        }
        result.consumedBytes = position - start
        return result
    }
}
