import StreamStoreFormat

/// The checks a client's batch passes before it is appended as sent: what the log itself
/// checks (one whole batch, CRC, counts) plus what Kafka's broker checks and the store's
/// readers rely on: a codec the store reads, and records that decode, as many as the header
/// says, with dense offset deltas.
enum RecordBatchCheck {
    static func refusal(of bytes: UnsafeRawBufferPointer) -> (code: KafkaErrorCode, message: String)? {
        let header: BatchHeader
        switch BatchHeader.probe(bytes, at: 0) {
        case .valid(let probed): header = probed
        case .incomplete(let available):
            return (.corruptMessage, "The records hold \(available) bytes of a longer batch.")
        case .corrupt(let reason):
            if bytes.count > Limits.maxBatchBytes { return (.messageTooLarge, "A batch may take at most \(Limits.maxBatchBytes) bytes.") }
            return (.corruptMessage, "The records are not a valid RecordBatch v2: \(reason).")
        }
        guard header.totalBytes == bytes.count else {
            return (.invalidRecord, "Exactly one batch per partition is accepted; the records hold \(bytes.count) bytes, the first batch \(header.totalBytes).")
        }
        guard header.compressionCodec == 0 || header.compressionCodec == Int(Compression.zstdCodecID) else {
            return (.unsupportedCompressionType, "Compression codec \(header.compressionCodec) is not stored by this broker; use none or zstd.")
        }
        guard header.attributes & (BatchHeader.Attribute.transactional | BatchHeader.Attribute.control) == 0 else {
            return (.unsupportedVersion, "Transactional batches are not supported by this broker.")
        }
        var batch = StoredBatch(bytes: Array(bytes), records: BatchHeader.size..<bytes.count, header: header)
        do {
            if header.compressionCodec != 0 {
                batch = try batch.decompressed(with: ZstdDecompressor(), position: "a produce request")
            }
            var expected = header.baseOffset
            try batch.forEachRecord { record in
                guard record.offset == expected else { throw RecordCountMismatch() }
                expected += 1
            }
            guard expected - header.baseOffset == Int64(header.recordCount), expected - 1 == header.lastOffset else { throw RecordCountMismatch() }
        } catch {
            return (.corruptMessage, "The batch's records do not decode as its header describes them: \(error).")
        }
        return nil
    }

    private struct RecordCountMismatch: Error, CustomStringConvertible {
        var description: String { "record offsets or count differ from the header" }
    }
}
