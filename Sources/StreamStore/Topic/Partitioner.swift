import StreamStoreFormat
import StreamStoreLog
/// Kafka's default partitioner: which partition a keyed record goes to.
///
/// The placement must match Kafka's bit for bit, so that data and producers can move to a Kafka
/// cluster and keep every key on the partition it has always been on (docs/FORMAT.md, "Kafka compatibility").
/// That is why this is a port of Kafka's `Utils.murmur2` (MurmurHash2, 32-bit, with Kafka's
/// seed) rather than a better or faster hash.
///
/// Kafka computes in Java `int`s, which wrap on overflow; the port computes in `UInt32` with
/// wrapping operators (`&*`) and logical shifts (Java's `>>>`), so no input can trap.
enum Partitioner {
    /// Kafka's seed for murmur2; any other seed places keys differently.
    private static let seed: UInt32 = 0x9747_b28c
    /// MurmurHash2's mixing constant and shift.
    private static let m: UInt32 = 0x5bd1_e995
    private static let r: UInt32 = 24

    /// Kafka's `Utils.murmur2` of `bytes`, as the signed 32-bit value Java returns.
    static func murmur2(_ bytes: UnsafeRawBufferPointer) -> Int32 {
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
    static func murmur2(_ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { murmur2($0) }
    }

    /// The partition Kafka's default partitioner picks for `key`:
    /// `(murmur2(key) & 0x7fffffff) % partitionCount`.
    ///
    /// Kafka masks the sign bit (`Utils.toPositive`) rather than taking the absolute value, which
    /// would overflow for `Int32.min`; the mask keeps the same placement and cannot trap.
    static func partition(forKey key: [UInt8], partitionCount: Int) -> Int {
        precondition(partitionCount > 0, "a topic has at least one partition")
        let positive = Int(murmur2(key) & 0x7fff_ffff)
        return positive % partitionCount
    }
}

/// Places keyed records on partitions exactly as Kafka's default partitioner does, so a key stays
/// on the same partition if the data moves to a Kafka cluster.
///
/// ```swift
/// let partition = KafkaPartitioner.partition(forKey: Array("customer-17".utf8), partitionCount: 8)
/// ```
///
/// Records without a key are not placed by this type: Kafka spreads them, and so does the store.
public enum KafkaPartitioner {
    /// The partition, in `0..<partitionCount`, that Kafka's default partitioner picks for `key`:
    /// the murmur2 hash of the key bytes with its sign bit cleared, modulo `partitionCount`.
    ///
    /// - Precondition: `partitionCount > 0`.
    public static func partition(forKey key: [UInt8], partitionCount: Int) -> Int {
        Partitioner.partition(forKey: key, partitionCount: partitionCount)
    }
}
