/// Kafka's `Utils.murmur2`, the hash its default partitioner places keys by.
///
/// The placement must match Kafka's bit for bit, so that data and producers can move to a Kafka
/// cluster and keep every key on the partition it has always been on. That is why this is a port of Kafka's `Utils.murmur2` (MurmurHash2, 32-bit, with Kafka's
/// seed) rather than a better or faster hash.
///
/// Kafka computes in Java `int`s, which wrap on overflow; the port computes in `UInt32` with
/// wrapping operators (`&*`) and logical shifts (Java's `>>>`), so no input can trap.
package enum Murmur2 {
    /// Kafka's seed for murmur2; any other seed places keys differently.
    private static let seed: UInt32 = 0x9747_b28c
    /// MurmurHash2's mixing constant and shift.
    private static let m: UInt32 = 0x5bd1_e995
    private static let r: UInt32 = 24

    /// Kafka's `Utils.murmur2` of `bytes`, as the signed 32-bit value Java returns.
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let length = bytes.count
        // Java mixes in the length as an int; a buffer this large cannot exist in Kafka, and
        // truncating keeps the function total instead of trapping.
        var h = seed ^ UInt32(truncatingIfNeeded: length)
        let wholeWordBytes = length & ~3

        // Body: 4-byte words, little-endian whatever the host order, as Kafka assembles them
        // from individual bytes.
        var index = 0
        while index < wholeWordBytes {
            var k = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self))
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
            index += 4
        }

        // Tail: Kafka's `switch` falls through from case 3 to case 1, so the last one to three
        // bytes are mixed in together and multiplied once.
        let tail = length & 3
        if tail > 0 {
            if tail >= 3 { h ^= UInt32(bytes[wholeWordBytes + 2]) << 16 }
            if tail >= 2 { h ^= UInt32(bytes[wholeWordBytes + 1]) << 8 }
            h ^= UInt32(bytes[wholeWordBytes])
            h = h &* m
        }

        // Final avalanche, so that the low bits (which pick the partition) depend on every byte.
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// Kafka's `Utils.murmur2` of `bytes`, as the signed 32-bit value Java returns.
    package static func hash(_ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { hash($0) }
    }
}
