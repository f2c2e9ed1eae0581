import StreamStoreFormat
import StreamStoreLog
// The CLI's JSON line parser and text codecs, for the FuzzJSONLine target: stream-tool's own
// module, which is no library product, reaches the fuzz package only through this one.
@_exported import StreamToolSupport
/// The engine's internal decoders and checks, for the libFuzzer targets in `Fuzz/` (a package of
/// its own; see Fuzz/README.md).
///
/// A module of its own, not part of `import StreamStore`: only the fuzz package depends on it, so
/// embedders never see it. Each entry point is a thin door to the code a reader, recovery or index
/// validation runs, so a fuzz target exercises the real path and nothing written for it.
public enum FuzzEntryPoints {
    /// CRC32C (Castagnoli), the checksum of batches and checkpoints.
    public static func crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        CRC32C.checksum(bytes)
    }

    /// Walks `bytes` as consecutive batches by their length fields and rewrites the CRC32C of each
    /// batch that lies whole inside `bytes`, so that a mutated input reaches the checks behind the
    /// checksum (docs/FORMAT.md, "Batch"). With `denseFrom`, base offsets are rewritten too, dense
    /// from that offset, as a log needs them. Stops at the first length that is out of range or
    /// runs past the end. Returns the bytes covered by the batches it fixed.
    @discardableResult
    public static func fixChecksums(_ bytes: UnsafeMutableRawBufferPointer, denseFrom: Int64? = nil) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var position = 0
        var next = denseFrom
        while bytes.count - position >= BatchHeader.size {
            let start = base + position
            let length = BigEndian.load(Int32.self, start, BatchHeader.Field.batchLength)
            let total = Int(length) + BatchHeader.lengthPrefixSize
            guard length >= Int32(BatchHeader.size - BatchHeader.lengthPrefixSize), total <= bytes.count - position else { break }
            if let offset = next {
                BigEndian.store(offset, start, BatchHeader.Field.baseOffset)
                let delta = BigEndian.load(Int32.self, start, BatchHeader.Field.lastOffsetDelta)
                next = offset &+ Int64(delta) &+ 1
            }
            let covered = UnsafeRawBufferPointer(start: start + BatchHeader.Field.attributes, count: total - BatchHeader.Field.attributes)
            BigEndian.store(CRC32C.checksum(covered), start, BatchHeader.Field.crc)
            position += total
        }
        return position
    }

    /// Splits `bytes` into checked batches with a log reader's checks (`BatchParser`): whole batches
    /// with valid lengths, magic, CRC32C and counts, dense offsets when `expectedBaseOffset` is
    /// given. Returns the batches before the first that fails, and why parsing stopped there (nil
    /// at a clean end).
    public static func parseBatches(_ bytes: [UInt8], expectedBaseOffset: Int64? = nil) -> (batches: [StoredBatch], stop: String?) {
        let result = BatchParser.parse(bytes, expectedBaseOffset: expectedBaseOffset)
        if let corruption = result.corruption { return (result.batches, corruption) }
        if let needed = result.incompleteBatchBytes { return (result.batches, "incomplete batch of \(needed) bytes") }
        return (result.batches, nil)
    }

    /// True while a batch still holds its compressed frame.
    public static func isCompressed(_ batch: StoredBatch) -> Bool {
        batch.isCompressed
    }

    /// The batch with its records decompressed, as a reader hands it out (`.corruptBatch` when
    /// its frame cannot be read); an uncompressed batch as it is.
    public static func decompressed(_ batch: StoredBatch, with decompressor: FuzzDecompressor) throws(StreamStoreError) -> StoredBatch {
        try batch.decompressed(with: decompressor.decompressor, position: "fuzz input")
    }

    /// The whole encoded batch as the partition would write it at `baseOffset` (header, CRC32C,
    /// records; append-time batches stamped with `appendTimeMilliseconds`).
    public static func encode(_ batch: RecordBatch, baseOffset: Int64, appendTimeMilliseconds: Int64) -> [UInt8] {
        batch.encoded(baseOffset: baseOffset, appendTimeMilliseconds: appendTimeMilliseconds)
    }

    /// The checks an offset index passes before it is trusted (docs/FORMAT.md, "Offset index"):
    /// nil when sound, else the reason for doubt.
    public static func validateOffsetIndex(_ bytes: [UInt8], logBytes: Int64, segmentEntries: Int64?) -> String? {
        OffsetIndex.validate(bytes, logBytes: logBytes, segmentEntries: segmentEntries)
    }

    /// The checks a time index passes before it is trusted (docs/FORMAT.md, "Time index").
    public static func validateTimeIndex(_ bytes: [UInt8], segmentEntries: Int64?) -> String? {
        TimeIndex.validate(bytes, segmentEntries: segmentEntries)
    }

    /// The entry an offset-index lookup for `relativeOffset` lands on in these index bytes: the
    /// same warm-tail binary search, over the same predicate, as ``OffsetIndex``'s lookup.
    public static func searchOffsetIndex(_ bytes: [UInt8], relativeOffset: UInt32) -> Int? {
        bytes.withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress else { return nil }
            return IndexSearch.lastAtOrBelow(count: raw.count / OffsetIndex.entryBytes) { index in
                BigEndian.load(UInt32.self, base, index * OffsetIndex.entryBytes) <= relativeOffset
            }
        }
    }

    /// The entry a time-index lookup for `timestamp` lands on, as ``TimeIndex``'s lookup finds it.
    public static func searchTimeIndex(_ bytes: [UInt8], timestamp: Int64) -> Int? {
        bytes.withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress else { return nil }
            return IndexSearch.lastAtOrBelow(count: raw.count / TimeIndex.entryBytes) { index in
                BigEndian.load(Int64.self, base, index * TimeIndex.entryBytes) < timestamp
            }
        }
    }
}

/// A reusable zstd decompression context for a fuzz target, made once and used for every input
/// as a reader's pooled context is.
public final class FuzzDecompressor {
    let decompressor = ZstdDecompressor()

    public init() {}
}
