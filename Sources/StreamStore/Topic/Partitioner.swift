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
    /// Kafka's `Utils.murmur2` of `bytes` (``Murmur2``), as the signed 32-bit value Java returns.
    static func murmur2(_ bytes: [UInt8]) -> Int32 {
        Murmur2.hash(bytes)
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
