/// Splits a buffer of consecutive batches held in memory into checked batches, with the checks
/// a log reader makes (``BatchHeader/probe(_:at:expectedBaseOffset:)`` and a readable codec).
/// Files are read through the log's reader, which applies the same checks chunk by chunk.
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

    /// Parses `buffer` from `start` to its end. Batches share `buffer`; nothing is copied or
    /// decompressed. `expectedBaseOffset`, when given, is the first batch's base offset, and
    /// each later batch must begin where the one before ended.
    package static func parse(_ buffer: [UInt8], from start: Int = 0, expectedBaseOffset: Int64? = nil) -> Result {
        var result = Result(batches: [], consumedBytes: 0)
        var position = start
        var expected = expectedBaseOffset
        buffer.withUnsafeBytes { raw in
            while true {
                switch BatchHeader.probe(raw, at: position, expectedBaseOffset: expected) {
                case .valid(let header):
                    if let reason = header.unreadableCodecReason {
                        result.corruption = reason
                        return
                    }
                    result.batches.append(StoredBatch(bytes: buffer, records: (position + BatchHeader.size)..<(position + header.totalBytes), header: header))
                    position += header.totalBytes
                    expected = expected.map { _ in header.nextOffset }
                case .incomplete(let available):
                    guard available > 0, let base = raw.baseAddress else { return }
                    result.incompleteBatchBytes = available >= BatchHeader.lengthPrefixSize
                        ? Int(BigEndian.load(Int32.self, base + position, BatchHeader.Field.batchLength)) + BatchHeader.lengthPrefixSize
                        : BatchHeader.lengthPrefixSize
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

extension BatchHeader {
    /// Why a reader of records cannot read this batch's codec; nil for none and zstd. Compressed
    /// batches stay compressed when read: a reader decompresses only the batches it returns.
    package var unreadableCodecReason: String? {
        guard compressionCodec != 0 && compressionCodec != Int(Compression.zstdCodecID) else { return nil }
        return "batch at offset \(baseOffset) uses compression codec \(compressionCodec) (1 gzip, 2 snappy, 3 lz4), which StreamStore does not read; only none and zstd are supported"
    }
}
