/// How one input of the recovery target is laid out on disk, from its flags byte.
///
/// ```
/// bit 0  recompute the CRC32C of every whole batch in the fuzzed bytes (else few get past it)
/// bit 1  rewrite their base offsets so they are dense (the CRC does not cover them)
/// bit 2  put valid batches (a plain and a zstd one) in front of the fuzzed bytes
/// bit 3  with bit 2: the valid batches are a sealed segment of their own, the fuzzed bytes the
///        active segment after it
/// bit 4  with bit 3: write a checkpoint whose recovery point is the active segment
/// bit 5  the topic compresses with zstd (the append after recovery is compressed)
/// bit 6  the append carries a create time taken from the input, else append time
/// bit 7  leave a stale offset and time index next to the active segment
/// ```
struct RecoveryLayout {
    var fixChecksums: Bool
    var denseOffsets: Bool
    var validPrefix: Bool
    var sealedPrefix: Bool
    var checkpoint: Bool
    var zstdTopic: Bool
    var createTime: Bool
    var staleIndexes: Bool

    init(flags: UInt8) {
        fixChecksums = flags & 0x01 != 0
        denseOffsets = flags & 0x02 != 0
        validPrefix = flags & 0x04 != 0
        sealedPrefix = validPrefix && flags & 0x08 != 0
        checkpoint = sealedPrefix && flags & 0x10 != 0
        zstdTopic = flags & 0x20 != 0
        createTime = flags & 0x40 != 0
        staleIndexes = flags & 0x80 != 0
    }
}
