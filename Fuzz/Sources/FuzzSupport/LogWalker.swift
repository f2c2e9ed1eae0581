import StreamStore
import StreamStoreFuzzEntryPoints

/// An independent reading of a `.log` file, written from docs/FORMAT.md section 2 rather than
/// from the engine's code: the oracle the recovery target holds recovery to.
///
/// It walks whole batches from byte 0 and stops at the first one that fails a check the format
/// names (length range, bytes present, magic, CRC32C, counts, base offset range, dense offsets).
/// Recovery must keep exactly the batches before that point.
public enum LogWalker {
    public struct Batch: Equatable, Sendable {
        public var position: Int
        public var byteCount: Int
        public var baseOffset: Int64
        public var lastOffsetDelta: Int32
        public var recordCount: Int32
        public var attributes: Int16
        public var maxTimestamp: Int64
        public var nextOffset: Int64 { baseOffset + Int64(lastOffsetDelta) + 1 }
        public var codec: Int { Int(attributes & 0x07) }
        public var isControl: Bool { attributes & 0x20 != 0 }
    }

    public struct Walk: Sendable {
        public var batches: [Batch] = []
        /// Bytes of whole, valid batches from the start.
        public var validBytes = 0
        /// The offset after the last valid batch (the base offset when there is none).
        public var nextOffset: Int64
        /// Why the walk stopped before the end, nil when it reached the end on a boundary.
        public var stop: String?
    }

    static let maxBatchBytes = 16 * 1024 * 1024

    /// Walks `bytes` as a log whose first batch must have base offset `baseOffset`.
    public static func walk(_ bytes: [UInt8], baseOffset: Int64) -> Walk {
        var walk = Walk(nextOffset: baseOffset)
        bytes.withUnsafeBytes { raw in
            var position = 0
            while position < raw.count {
                let available = raw.count - position
                guard available >= 12 else {
                    walk.stop = "torn length prefix"
                    return
                }
                let batchLength = Int32(bitPattern: load32(raw, position + 8))
                let total = Int(batchLength) + 12
                guard batchLength >= 49, total <= maxBatchBytes else {
                    walk.stop = "batch length \(batchLength) out of range"
                    return
                }
                guard available >= total else {
                    walk.stop = "torn batch"
                    return
                }
                guard raw[position + 16] == 2 else {
                    walk.stop = "magic \(raw[position + 16])"
                    return
                }
                let stored = load32(raw, position + 17)
                let computed = FuzzEntryPoints.crc32c(UnsafeRawBufferPointer(rebasing: raw[(position + 21)..<(position + total)]))
                guard stored == computed else {
                    walk.stop = "CRC32C mismatch"
                    return
                }
                let batch = Batch(
                    position: position, byteCount: total,
                    baseOffset: Int64(bitPattern: load64(raw, position)),
                    lastOffsetDelta: Int32(bitPattern: load32(raw, position + 23)),
                    recordCount: Int32(bitPattern: load32(raw, position + 57)),
                    attributes: Int16(bitPattern: UInt16(raw[position + 21]) << 8 | UInt16(raw[position + 22])),
                    maxTimestamp: Int64(bitPattern: load64(raw, position + 35)))
                guard batch.recordCount >= 0, batch.lastOffsetDelta >= 0,
                    batch.recordCount == 0 || Int64(batch.lastOffsetDelta) >= Int64(batch.recordCount) - 1
                else {
                    walk.stop = "counts disagree"
                    return
                }
                guard batch.baseOffset >= 0, batch.baseOffset < Int64.max - Int64(batch.lastOffsetDelta) else {
                    walk.stop = "base offset out of range"
                    return
                }
                guard batch.baseOffset == walk.nextOffset else {
                    walk.stop = "base offset \(batch.baseOffset), expected \(walk.nextOffset)"
                    return
                }
                walk.batches.append(batch)
                position += total
                walk.validBytes = position
                walk.nextOffset = batch.nextOffset
            }
        }
        return walk
    }

    private static func load32(_ raw: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in 0..<4 { value = value << 8 | UInt32(raw[at + index]) }
        return value
    }

    private static func load64(_ raw: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<8 { value = value << 8 | UInt64(raw[at + index]) }
        return value
    }
}
