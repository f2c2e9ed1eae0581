import StreamStoreFormat
/// The byte arrays one reader reuses from read to read.
///
/// A replay loop that allocates a fresh buffer for every read spends most of its time in the
/// kernel: the allocator hands big blocks back to the system on free, and every new block is
/// faulted in and zeroed page by page (measured on 290-byte JSON events with zstd: 41% of a
/// replay in page faults). A reader that owns a `ReadBuffers` reads and decompresses into the
/// same memory each time instead.
///
/// Records handed out keep sharing these arrays (their slices retain the storage), so reuse is
/// safe by construction: writing into an array goes through `withUnsafeMutableBytes`, which
/// copies the storage first when any record still holds it. The common loop (records dropped
/// before the next read) therefore reuses memory; a caller that keeps records pays one copy.
///
/// Not thread-safe: one reader uses it at a time.
package final class ReadBuffers {
    package init() {}
    /// Where log bytes are read into.
    fileprivate(set) var raw: [UInt8] = []
    /// Where the batches of one read are decompressed, one after the other.
    fileprivate(set) var plain: [UInt8] = []
    /// Set while a read is under way and `raw` was already filled once by it: a second fill in
    /// the same read would copy the batches the first one handed out, so it gets a new array.
    var rawInUse = false
    /// How many bytes the last read handed out per byte of log it read: 1 for plain batches,
    /// the compression ratio for zstd ones. Sizes the next read of the log.
    var plainBytesPerLogByte = 1.0
    /// Fills that had to copy their array first because records handed out earlier still
    /// shared it. A reader that drops its records before reading again keeps this at 0.
    private(set) var copiedFills = 0

    /// Fills `raw` (reused, or grown) through `body`, which gets exactly `count` bytes of space
    /// and returns how many it filled. The array may be longer than `count`.
    func fillRaw(count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(StreamStoreError) -> Int) throws(StreamStoreError) -> (bytes: [UInt8], filled: Int) {
        if rawInUse { raw = [] }
        rawInUse = true
        return try Self.fill(&raw, count: count, copies: &copiedFills, body)
    }

    /// Fills `plain` the same way, for decompression.
    func fillPlain(count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(StreamStoreError) -> Int) throws(StreamStoreError) -> (bytes: [UInt8], filled: Int) {
        try Self.fill(&plain, count: count, copies: &copiedFills, body)
    }

    /// Arrays are never shrunk, but one grown past this is dropped after the read that needed
    /// it, so one huge batch does not pin its memory for the reader's lifetime.
    static let keptBytes = 8 << 20

    func endRead() {
        rawInUse = false
        if raw.count > Self.keptBytes { raw = [] }
        if plain.count > Self.keptBytes { plain = [] }
    }

    private static func fill(
        _ array: inout [UInt8], count: Int, copies: inout Int, _ body: (UnsafeMutableRawBufferPointer) throws(StreamStoreError) -> Int
    ) throws(StreamStoreError) -> (bytes: [UInt8], filled: Int) {
        if array.count < count {
            // Grow geometrically; the bytes need no zeroing since every reader fills before it reads.
            let capacity = max(count, min(array.count * 2, Self.keptBytes))
            array = [UInt8](unsafeUninitializedCapacity: capacity) { _, initialized in initialized = capacity }
        }
        let before = array.withUnsafeBufferPointer { $0.baseAddress }
        let outcome = array.withUnsafeMutableBytes { buffer in
            Result { () throws(StreamStoreError) -> Int in try body(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])) }
        }
        if array.withUnsafeBufferPointer({ $0.baseAddress }) != before { copies += 1 }
        return (array, try outcome.get())
    }
}
