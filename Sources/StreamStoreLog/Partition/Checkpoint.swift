import StreamStoreFormat
/// A partition's `checkpoints` file: where its log starts and how far it is known to be durable
/// (docs/FORMAT.md, "Checkpoints file").
///
/// ```
///  0 magic "SSCP"            16 recoveryPoint int64
///  4 version uint16 (= 1)    24 cleanLogEndOffset int64 (-1 unless written by a clean close)
///  6 reserved uint16 (= 0)   32 cleanActiveLogBytes int64 (-1 likewise)
///  8 logStartOffset int64    40 crc32c uint32 of bytes 0..<40
/// ```
/// Big-endian. Replaced atomically (temporary file, fsync, rename, fsync of the folder), so a
/// crash leaves the old checkpoint or the new one; a file that fails its CRC is ignored and the
/// partition recovers from its first segment.
struct Checkpoint: Equatable {
    static let byteCount = 44
    static let magic: [UInt8] = Array("SSCP".utf8)
    static let version: UInt16 = 1

    var logStartOffset: Int64
    /// Every batch before this offset is durable: recovery scans only from its segment on.
    var recoveryPoint: Int64
    /// Set only by a clean close: the log end offset then, and the active segment's size.
    var cleanLogEndOffset: Int64 = -1
    var cleanActiveLogBytes: Int64 = -1

    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Checkpoint.byteCount)
        bytes.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            for (index, byte) in Checkpoint.magic.enumerated() { base.storeBytes(of: byte, toByteOffset: index, as: UInt8.self) }
            BigEndian.store(Checkpoint.version, base, 4)
            BigEndian.store(UInt16(0), base, 6)
            BigEndian.store(logStartOffset, base, 8)
            BigEndian.store(recoveryPoint, base, 16)
            BigEndian.store(cleanLogEndOffset, base, 24)
            BigEndian.store(cleanActiveLogBytes, base, 32)
            BigEndian.store(CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: 40)), base, 40)
        }
        return bytes
    }

    /// Decodes and checks a checkpoint file; nil when it is not a valid one.
    static func decode(_ bytes: [UInt8]) -> Checkpoint? {
        guard bytes.count == byteCount else { return nil }
        return bytes.withUnsafeBytes { raw -> Checkpoint? in
            let base = raw.baseAddress!
            guard Array(raw[0..<4]) == magic, BigEndian.load(UInt16.self, base, 4) == version else { return nil }
            guard BigEndian.load(UInt32.self, base, 40) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<40])) else {
                return nil
            }
            let checkpoint = Checkpoint(
                logStartOffset: BigEndian.load(Int64.self, base, 8),
                recoveryPoint: BigEndian.load(Int64.self, base, 16),
                cleanLogEndOffset: BigEndian.load(Int64.self, base, 24),
                cleanActiveLogBytes: BigEndian.load(Int64.self, base, 32))
            guard checkpoint.logStartOffset >= 0, checkpoint.recoveryPoint >= checkpoint.logStartOffset else { return nil }
            return checkpoint
        }
    }
}
