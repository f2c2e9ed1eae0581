/// XXH64, Yann Collet's 64-bit xxHash (https://github.com/Cyan4973/xxHash, `doc/xxhash_spec.md`),
/// the hash of correlation-filter keys (docs/FORMAT.md, "Correlation filter"). Parquet's Bloom
/// filters use the same hash with seed 0, as we do.
///
/// Byte order matters: the spec reads input words little-endian, whatever the machine.
package enum XXHash64 {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    package static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let count = bytes.count
        var position = 0
        var accumulator: UInt64
        if count >= 32, let base = bytes.baseAddress {
            var lanes = (seed &+ prime1 &+ prime2, seed &+ prime2, seed, seed &- prime1)
            while position + 32 <= count {
                lanes.0 = round(lanes.0, word(base, position))
                lanes.1 = round(lanes.1, word(base, position + 8))
                lanes.2 = round(lanes.2, word(base, position + 16))
                lanes.3 = round(lanes.3, word(base, position + 24))
                position += 32
            }
            accumulator = rotate(lanes.0, 1) &+ rotate(lanes.1, 7) &+ rotate(lanes.2, 12) &+ rotate(lanes.3, 18)
            accumulator = merge(accumulator, lanes.0)
            accumulator = merge(accumulator, lanes.1)
            accumulator = merge(accumulator, lanes.2)
            accumulator = merge(accumulator, lanes.3)
        } else {
            accumulator = seed &+ prime5
        }
        accumulator &+= UInt64(count)
        if let base = bytes.baseAddress {
            while position + 8 <= count {
                accumulator ^= round(0, word(base, position))
                accumulator = rotate(accumulator, 27) &* prime1 &+ prime4
                position += 8
            }
            if position + 4 <= count {
                let half = UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                accumulator ^= half &* prime1
                accumulator = rotate(accumulator, 23) &* prime2 &+ prime3
                position += 4
            }
            while position < count {
                accumulator ^= UInt64(bytes[position]) &* prime5
                accumulator = rotate(accumulator, 11) &* prime1
                position += 1
            }
        }
        accumulator ^= accumulator >> 33
        accumulator &*= prime2
        accumulator ^= accumulator >> 29
        accumulator &*= prime3
        accumulator ^= accumulator >> 32
        return accumulator
    }

    package static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    @inline(__always)
    private static func word(_ base: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    private static func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 {
        (value << bits) | (value >> (64 - bits))
    }

    @inline(__always)
    private static func round(_ lane: UInt64, _ input: UInt64) -> UInt64 {
        rotate(lane &+ input &* prime2, 31) &* prime1
    }

    @inline(__always)
    private static func merge(_ accumulator: UInt64, _ lane: UInt64) -> UInt64 {
        (accumulator ^ round(0, lane)) &* prime1 &+ prime4
    }
}
