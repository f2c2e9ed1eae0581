import StreamStoreFormat
/// A Bloom filter of the correlation ids in one sealed segment: the `.cfilter` file beside its
/// `.log` (docs/FORMAT.md, "Correlation filter"). A trace reads it to skip segments that cannot
/// hold the id it looks for.
///
/// ```
///  0 magic "SSCF"             24 logBytes int64
///  4 version uint16 (= 1)     32 idCount int64
///  6 hash uint8 (1: XXH64)    40 blockCount uint32
///  7 reserved uint8           44 blocks: blockCount × 8 × uint32
///  8 baseOffset int64          … crc32c uint32 of everything before it
/// 16 nextOffset int64
/// ```
/// Big-endian, like every file of the store. The blocks are Parquet's split-block Bloom filter:
/// a key's 64-bit hash picks one 32-byte block with its upper half and sets one bit in each of
/// the block's eight words with its lower half, so a probe touches one cache line.
///
/// A filter says "maybe" or "certainly not"; it is only a cache of the log, and trusted only
/// when its checksum holds and it names exactly the segment it sits beside (base offset, next
/// offset and log size), otherwise the segment is scanned.
package struct CorrelationFilter: Equatable {
    static let magic: [UInt8] = Array("SSCF".utf8)
    static let version: UInt16 = 1
    /// The hash of keys: XXH64 with seed 0 over the id's bytes.
    static let hashXXH64: UInt8 = 1
    static let headerBytes = 44
    static let checksumBytes = 4
    static let wordsPerBlock = 8
    static let blockBytes = wordsPerBlock * 4
    /// Bits per expected id when a filter is sized, before ``shrink()``.
    static let bitsPerExpectedID = 10
    /// ``shrink()`` folds while the folded filter has at most this share of its bits set; at
    /// 1/2, a probe of eight bits is a false "maybe" for about 0.5% of absent ids.
    static let maxFillAfterShrinking = 0.5
    static let maxBlockCount = Limits.maxCorrelationFilterBytes / blockBytes

    /// The segment a filter describes, which it must match to be trusted.
    package struct Binding: Equatable, CustomStringConvertible {
        var baseOffset: Int64
        var nextOffset: Int64
        package var logBytes: Int64

        package var description: String { "offsets \(baseOffset)..<\(nextOffset), \(logBytes) log bytes" }
    }

    /// Why bytes are not a usable filter.
    struct Invalid: Error, Equatable {
        var reason: String
    }

    let binding: Binding
    /// Records whose correlation id went in (repeats counted).
    private(set) var idCount: Int64 = 0
    private(set) var words: [UInt32]

    var blockCount: Int { words.count / Self.wordsPerBlock }
    /// Size of the encoded file.
    var byteCount: Int { Self.headerBytes + words.count * 4 + Self.checksumBytes }

    /// An empty filter for a segment of up to `expectedIDs` ids: a power of two of blocks with
    /// about ``bitsPerExpectedID`` bits each, within ``maxBlockCount``.
    init(binding: Binding, expectedIDs: Int64) {
        self.binding = binding
        let bits = max(expectedIDs, 1).multipliedReportingOverflow(by: Int64(Self.bitsPerExpectedID))
        let wanted = bits.overflow ? Int64(Self.maxBlockCount) : (bits.partialValue + 255) / 256
        var blocks = 1
        while blocks < Self.maxBlockCount && Int64(blocks) < wanted { blocks *= 2 }
        words = [UInt32](repeating: 0, count: blocks * Self.wordsPerBlock)
    }

    private init(binding: Binding, idCount: Int64, words: [UInt32]) {
        self.binding = binding
        self.idCount = idCount
        self.words = words
    }

    /// The hash a key goes in with.
    package static func hash(_ id: UnsafeRawBufferPointer) -> UInt64 { XXHash64.hash(id) }

    package static func hash(_ id: [UInt8]) -> UInt64 { XXHash64.hash(id) }

    /// The block of `hash` among `blockCount`: its upper 32 bits scaled to the count. With an
    /// even count, block `i` of a filter is block `i / 2` of the filter folded to half, which is
    /// what makes ``shrink()`` exact.
    @inline(__always)
    private static func block(of hash: UInt64, blockCount: Int) -> Int {
        Int(truncatingIfNeeded: ((hash >> 32) &* UInt64(blockCount)) >> 32)
    }

    /// The bit of word `index` of its block that a key sets: Parquet's salts, each spreading the
    /// key's lower 32 bits over one word. Written out rather than read from an array: inserts and
    /// probes run once per record of a scan.
    @inline(__always)
    private static func bit(_ key: UInt32, word index: Int) -> UInt32 {
        let salt: UInt32
        switch index {
        case 0: salt = 0x47B6_137B
        case 1: salt = 0x4497_4D91
        case 2: salt = 0x8824_AD5B
        case 3: salt = 0xA2B7_289D
        case 4: salt = 0x7054_95C7
        case 5: salt = 0x2DF1_424B
        case 6: salt = 0x9EFC_4947
        default: salt = 0x5C6B_FB31
        }
        return 1 << ((key &* salt) >> 27)
    }

    mutating func insert(_ hash: UInt64) {
        idCount += 1
        let first = Self.block(of: hash, blockCount: blockCount) * Self.wordsPerBlock
        let key = UInt32(truncatingIfNeeded: hash)
        words.withUnsafeMutableBufferPointer { words in
            for index in 0..<Self.wordsPerBlock { words[first + index] |= Self.bit(key, word: index) }
        }
    }

    /// False when no key with this hash went in; true when one may have.
    package func mightContain(_ hash: UInt64) -> Bool {
        let first = Self.block(of: hash, blockCount: blockCount) * Self.wordsPerBlock
        let key = UInt32(truncatingIfNeeded: hash)
        return words.withUnsafeBufferPointer { words in
            (0..<Self.wordsPerBlock).allSatisfy { words[first + $0] & Self.bit(key, word: $0) != 0 }
        }
    }

    /// Halves the filter while it stays sparse (at most ``maxFillAfterShrinking`` of the bits
    /// set): a segment is sized by its record count, but most records may repeat an id or have
    /// none. Folding ORs blocks `2j` and `2j + 1` into block `j`, so every key that went in is
    /// still found.
    mutating func shrink() {
        while blockCount > 1 && blockCount % 2 == 0 {
            let half = blockCount / 2
            var folded = [UInt32](repeating: 0, count: half * Self.wordsPerBlock)
            var setBits = 0
            words.withUnsafeBufferPointer { words in
                for block in 0..<half {
                    for index in 0..<Self.wordsPerBlock {
                        let word = words[2 * block * Self.wordsPerBlock + index] | words[(2 * block + 1) * Self.wordsPerBlock + index]
                        folded[block * Self.wordsPerBlock + index] = word
                        setBits += word.nonzeroBitCount
                    }
                }
            }
            guard Double(setBits) <= Self.maxFillAfterShrinking * Double(folded.count * 32) else { return }
            words = folded
        }
    }

    /// The file's bytes (layout above).
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        bytes.withUnsafeMutableBytes { raw in
            for (index, byte) in Self.magic.enumerated() { raw.storeBytes(of: byte, toByteOffset: index, as: UInt8.self) }
            BigEndian.store(Self.version, raw, 4)
            raw.storeBytes(of: Self.hashXXH64, toByteOffset: 6, as: UInt8.self)
            BigEndian.store(binding.baseOffset, raw, 8)
            BigEndian.store(binding.nextOffset, raw, 16)
            BigEndian.store(binding.logBytes, raw, 24)
            BigEndian.store(idCount, raw, 32)
            BigEndian.store(UInt32(blockCount), raw, 40)
            for (index, word) in words.enumerated() { BigEndian.store(word, raw, Self.headerBytes + index * 4) }
            let covered = byteCount - Self.checksumBytes
            BigEndian.store(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<covered])), raw, covered)
        }
        return bytes
    }

    /// Decodes and checks a filter file (everything but whether it matches its segment).
    static func decode(_ bytes: [UInt8]) throws(Invalid) -> CorrelationFilter {
        guard bytes.count >= headerBytes + blockBytes + checksumBytes else {
            throw Invalid(reason: "the file is \(bytes.count) bytes, too short for a filter")
        }
        let decoded: Result<CorrelationFilter, Invalid> = bytes.withUnsafeBytes { raw in
            guard Array(raw[0..<4]) == magic else { return .failure(Invalid(reason: "it does not start with SSCF")) }
            let version = BigEndian.load(UInt16.self, raw, 4)
            guard version == Self.version else {
                return .failure(Invalid(reason: "it has format version \(version); this build reads \(Self.version)"))
            }
            guard raw[6] == hashXXH64 else { return .failure(Invalid(reason: "it names hash function \(raw[6]), not 1 (XXH64)")) }
            let blocks = Int(BigEndian.load(UInt32.self, raw, 40))
            guard blocks >= 1, blocks <= maxBlockCount, bytes.count == headerBytes + blocks * blockBytes + checksumBytes else {
                return .failure(Invalid(reason: "it claims \(blocks) blocks but holds \(bytes.count) bytes"))
            }
            let covered = bytes.count - checksumBytes
            guard BigEndian.load(UInt32.self, raw, covered) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<covered])) else {
                return .failure(Invalid(reason: "its CRC32C does not match"))
            }
            let binding = Binding(
                baseOffset: BigEndian.load(Int64.self, raw, 8), nextOffset: BigEndian.load(Int64.self, raw, 16),
                logBytes: BigEndian.load(Int64.self, raw, 24))
            let idCount = BigEndian.load(Int64.self, raw, 32)
            guard binding.baseOffset >= 0, binding.nextOffset >= binding.baseOffset, binding.logBytes >= 0, idCount >= 0 else {
                return .failure(Invalid(reason: "its offsets, size or count are out of range"))
            }
            let words = (0..<(blocks * wordsPerBlock)).map { BigEndian.load(UInt32.self, raw, headerBytes + $0 * 4) }
            return .success(CorrelationFilter(binding: binding, idCount: idCount, words: words))
        }
        return try decoded.get()
    }
}
