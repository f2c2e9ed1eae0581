import StreamStore
import StreamStoreFormat
import StreamStoreLog
/// One batch of a `.log` file as an inspection tool sees it: where it lies, every field of its
/// header (docs/FORMAT.md, section 2), and what is wrong with it, if anything.
///
/// Handed out by ``LogFileInspector/forEachBatch(_:)`` for sound batches and for damaged ones
/// whose framing (length and magic) still lets the walk go on; ``problems`` says which.
package struct InspectedBatch: Sendable {
    /// Byte position of the batch in its file.
    package let position: Int64
    /// Offset of the batch's first record.
    package let baseOffset: Int64
    /// `baseOffset + lastOffsetDelta`.
    package let lastOffset: Int64
    /// Records the header says the batch holds.
    package let recordCount: Int
    /// Size on disk, header included (`batchLength + 12`).
    package let byteCount: Int
    /// Kafka's replication epoch; StreamStore writes 0.
    package let partitionLeaderEpoch: Int32
    /// The format version byte: 2 for every batch StreamStore reads.
    package let magic: Int8
    /// The CRC32C stored in the header.
    package let crc: UInt32
    /// The CRC32C computed over the bytes the stored one covers (equal to ``crc`` for a sound batch).
    package let computedCRC: UInt32
    /// The raw attributes field; the properties below decode it.
    package let attributes: Int16
    /// The first record's timestamp (create time), or the append time; ms since the epoch.
    package let baseTimestamp: Int64
    /// The largest record timestamp in the batch, ms since the epoch.
    package let maxTimestamp: Int64
    /// −1 when the batch comes from no idempotent producer.
    package let producerId: Int64
    /// The idempotent producer's epoch, −1 without one.
    package let producerEpoch: Int16
    /// The first record's sequence number from its producer, −1 without one.
    package let baseSequence: Int32
    /// The records section as stored: compressed for a compressed batch.
    package let recordsByteCount: Int
    /// The records section uncompressed: for zstd the size its frame header declares (nil when
    /// it declares none), otherwise ``recordsByteCount``.
    package let uncompressedRecordsByteCount: Int?
    /// The whole batch's size were it stored uncompressed: the header plus
    /// ``uncompressedRecordsByteCount`` (how `describe` counts uncompressed bytes).
    package var uncompressedByteCount: Int? {
        uncompressedRecordsByteCount.map { byteCount - recordsByteCount + $0 }
    }

    /// What failed a check, as sentences; empty for a sound batch.
    package let problems: [String]

    /// The bytes and header for decoding records; nil when the codec is unreadable.
    let stored: StoredBatch?
    let path: String

    /// Kafka's codec id, attributes bits 0-2: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
    package var compressionCodec: Int { Int(attributes & BatchHeader.Attribute.compressionMask) }

    /// `none`, `gzip`, `snappy`, `lz4`, `zstd`, or `codec N` for ids Kafka does not define.
    package var compressionName: String {
        let names = ["none", "gzip", "snappy", "lz4", "zstd"]
        return compressionCodec < names.count ? names[compressionCodec] : "codec \(compressionCodec)"
    }

    /// True when the store stamped the append time (attributes bit 3); every record then has
    /// the timestamp ``maxTimestamp``. False for producer create times.
    package var isLogAppendTime: Bool { attributes & BatchHeader.Attribute.logAppendTime != 0 }
    /// Part of a Kafka transaction (attributes bit 4); StreamStore never writes one.
    package var isTransactional: Bool { attributes & BatchHeader.Attribute.transactional != 0 }
    /// A Kafka control batch (transaction marker): it takes offsets but holds no application records.
    package var isControl: Bool { attributes & BatchHeader.Attribute.control != 0 }
    /// True when the stored CRC32C is the one the bytes have.
    package var crcMatches: Bool { crc == computedCRC }

    init(header: BatchHeader, position: Int64, bytes: [UInt8], batchStart: Int, computedCRC: UInt32, problems: [String], path: String) {
        self.position = position
        baseOffset = header.baseOffset
        lastOffset = header.baseOffset &+ Int64(header.lastOffsetDelta)
        recordCount = Int(header.recordCount)
        byteCount = header.totalBytes
        partitionLeaderEpoch = header.partitionLeaderEpoch
        magic = header.magic
        crc = header.crc
        self.computedCRC = computedCRC
        attributes = header.attributes
        baseTimestamp = header.baseTimestamp
        maxTimestamp = header.maxTimestamp
        producerId = header.producerId
        producerEpoch = header.producerEpoch
        baseSequence = header.baseSequence
        self.problems = problems
        self.path = path
        let records = (batchStart + BatchHeader.size)..<(batchStart + header.totalBytes)
        recordsByteCount = records.count
        switch header.compressionCodec {
        case 0:
            uncompressedRecordsByteCount = records.count
            stored = StoredBatch(bytes: bytes, records: records, header: header)
        case Int(Compression.zstdCodecID):
            let declared = bytes.withUnsafeBytes { ZstdFrame.contentSize(UnsafeRawBufferPointer(rebasing: $0[records])) }
            uncompressedRecordsByteCount = declared.flatMap { Int(exactly: $0) }
            stored = StoredBatch(bytes: bytes, records: records, header: header)
        default:
            uncompressedRecordsByteCount = nil
            stored = nil
        }
    }

    /// Calls `body` with each record of the batch, decompressing it first when needed. Throws
    /// `.corruptBatch` when the records cannot be decoded (a malformed record, a bad zstd frame,
    /// a codec StreamStore does not read). A control batch has no records to visit.
    ///
    /// The records of a batch with ``problems`` are decoded too, for forensics: every length is
    /// still bounds-checked, but what they say cannot be trusted.
    package func forEachRecord(_ body: (borrowing RecordView) throws(StreamStoreError) -> Void) throws(StreamStoreError) {
        guard let stored else {
            throw StreamStoreError(
                .corruptBatch, "The batch at byte \(position) uses compression \(compressionName), which StreamStore does not read.",
                path: path, offset: baseOffset)
        }
        let readable = try stored.decompressed(with: ZstdDecompressor(), position: "\(path), byte \(position)")
        try readable.forEachRecord(from: 0, body)
    }

    /// Decodes every record without looking at them; the reason when one cannot be decoded.
    package func recordProblem() -> String? {
        do {
            try forEachRecord { _ in }
            return nil
        } catch {
            return error.message
        }
    }
}
