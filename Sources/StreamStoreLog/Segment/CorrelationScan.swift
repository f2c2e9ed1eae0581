import StreamStoreFormat
import CStreamStoreShims

/// Walks one segment's log record by record for their correlation ids, the way traces and
/// correlation-filter builds read it: batches are checked by ``LogReader`` (length, magic,
/// CRC32C, dense offsets), zstd batches are decompressed into one reused buffer, and records
/// are looked at in place: no key, value or header is copied unless the caller asks.
///
/// A record's correlation id is the value of its first `correlation-id` header, as
/// ``HeaderCarrying/correlationID`` reads it; a record without one, or whose value is null, has
/// none.
package struct CorrelationScan {
    static let headerKey: [UInt8] = Array(HeaderName.correlationID.rawValue.utf8)

    /// A record with a correlation id, valid only during the call that gets it.
    package struct CorrelatedRecord {
        package let id: UnsafeRawBufferPointer
        package let layout: RecordLayout
        let decoder: RecordDecoder

        package var key: [UInt8]? { layout.key.map { Array(UnsafeRawBufferPointer(rebasing: decoder.buffer[$0])) } }
        package var valueByteCount: Int? { layout.value?.count }
        package var headers: [RecordHeader] { decoder.headers(of: layout) }
    }

    /// How a scan ended.
    package struct Outcome {
        var stop: LogReader.Stop
        /// Bytes of the log read in whole, valid batches.
        package var scannedBytes: Int64 = 0
        /// Batches that framed and checksummed but whose records could not be read (a codec
        /// StreamStore does not read, a bad zstd frame, malformed records), as sentences.
        package var problems: [String] = []
        /// True when every record of the log up to the end was seen: only then may a filter be
        /// built from the scan.
        var sawEveryRecord: Bool { stop == .end && problems.isEmpty }
    }

    let log: File
    /// Where the scan ends: the sealed log's size, or the active segment's visible end.
    let endPosition: Int64
    let baseOffset: Int64
    let decompressor: ZstdDecompressor

    /// Calls `body` for each record that has a correlation id, in offset order. With `needle`,
    /// only in batches whose records contain those bytes somewhere (a record whose id is the
    /// needle holds it verbatim), so a trace walks the records of few batches. `shouldContinue`
    /// is asked before each batch, so a background build can be stopped part way.
    func run(
        onlyBatchesContaining needle: UnsafeRawBufferPointer? = nil, shouldContinue: () -> Bool = { true }, _ body: (CorrelatedRecord) -> Void
    ) throws(StreamStoreError) -> Outcome {
        var outcome = Outcome(stop: .end)
        var plain = PlainBuffer()
        defer { plain.release() }
        var reader = LogReader(file: log, to: endPosition, offsets: .dense(firstBaseOffset: baseOffset))
        while let batch = try reader.next() {
            guard shouldContinue() else {
                reader.stopHere()
                break
            }
            let header = batch.header
            outcome.scannedBytes = batch.endPosition
            guard !header.isControl else { continue }
            let problem = reader.withBytes(of: batch) { bytes in Self.visit(header, bytes, needle: needle, plain: &plain, decompressor: decompressor, body) }
            if let problem {
                outcome.problems.append("batch at offset \(header.baseOffset) (byte \(batch.position) of \(log.path)): \(problem)")
            }
        }
        outcome.stop = reader.stop ?? .end
        switch outcome.stop {
        case .end, .stopped: break
        case .corrupt, .torn: outcome.problems.append("\(log.path): \(outcome.stop.sentence)")
        }
        return outcome
    }

    /// Visits the records of one checked batch; returns why they cannot be read, if so.
    private static func visit(
        _ header: BatchHeader, _ batch: UnsafeRawBufferPointer, needle: UnsafeRawBufferPointer?, plain: inout PlainBuffer,
        decompressor: ZstdDecompressor,
        _ body: (CorrelatedRecord) -> Void
    ) -> String? {
        let records: UnsafeRawBufferPointer
        switch header.compressionCodec {
        case 0:
            records = UnsafeRawBufferPointer(rebasing: batch[BatchHeader.size...])
        case Int(Compression.zstdCodecID):
            switch plain.decompress(UnsafeRawBufferPointer(rebasing: batch[BatchHeader.size...]), with: decompressor) {
            case .success(let bytes): records = bytes
            case .failure(let failure): return "its zstd frame cannot be read (\(failure))"
            }
        default:
            return "it uses compression codec \(header.compressionCodec) (1 gzip, 2 snappy, 3 lz4), which StreamStore does not read"
        }
        if let needle, let base = records.baseAddress, ss_contains(base, records.count, needle.baseAddress, needle.count) == 0 {
            return nil
        }
        let decoder = RecordDecoder(buffer: records, records: 0..<records.count, header: header)
        do {
            try headerKey.withUnsafeBytes { key in
                try decoder.forEach { layout in
                    guard layout.headerCount > 0, case .some(.some(let id)) = decoder.headerValue(of: layout, forKey: key) else { return true }
                    body(CorrelatedRecord(id: id, layout: layout, decoder: decoder))
                    return true
                }
            }
        } catch {
            return "\(error)"
        }
        return nil
    }
}

/// The memory zstd batches are decompressed into, grown as needed and reused batch after batch.
private struct PlainBuffer {
    private var storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    /// The frame's records, valid until the next call.
    mutating func decompress(_ frame: UnsafeRawBufferPointer, with decompressor: ZstdDecompressor) -> Result<UnsafeRawBufferPointer, ZstdDecompressor.Failure> {
        guard let size = ZstdFrame.contentSize(frame), size <= Int64(Limits.maxBatchBytes) else {
            // No declared size (some Kafka producers stream their frames): decompressed in steps
            // into an array of its own, then copied here.
            return decompressor.decompress(frame, limitBytes: Limits.maxBatchBytes).map { bytes in
                reserve(bytes.count)
                bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
                return UnsafeRawBufferPointer(rebasing: storage[0..<bytes.count])
            }
        }
        let declared = Int(size)
        reserve(declared + 1)
        return decompressor.decompress(frame, into: storage, declaredSize: declared).map { UnsafeRawBufferPointer(rebasing: storage[0..<$0]) }
    }

    private mutating func reserve(_ byteCount: Int) {
        guard storage.count < byteCount else { return }
        storage.deallocate()
        storage = .allocate(byteCount: max(byteCount, storage.count * 2), alignment: 16)
    }

    mutating func release() {
        storage.deallocate()
        storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }
}
