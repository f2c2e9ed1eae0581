import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Kafka's default partitioner, checked against keys placed by an independent Kafka client
/// (`Vectors/murmur2-partitions.json`), so a key lands where Kafka would put it.
struct PartitionerTests {
    @Test(arguments: try VectorLoader.partitionedKeys())
    func murmur2MatchesKafka(_ vector: VectorLoader.PartitionedKey) {
        #expect(Partitioner.murmur2(vector.key) == vector.murmur2)
        #expect(vector.key.withUnsafeBytes { Murmur2.hash($0) } == vector.murmur2)
        #expect(Partitioner.murmur2(vector.key) & 0x7fff_ffff == vector.positive)
    }

    @Test(arguments: try VectorLoader.partitionedKeys())
    func keyLandsOnKafkasPartitionForEveryCount(_ vector: VectorLoader.PartitionedKey) {
        #expect(!vector.partitionFor.isEmpty)
        for (count, partition) in vector.partitionFor.sorted(by: { $0.key < $1.key }) {
            #expect(Partitioner.partition(forKey: vector.key, partitionCount: count) == partition, "partition count \(count)")
            #expect(KafkaPartitioner.partition(forKey: vector.key, partitionCount: count) == partition, "partition count \(count)")
        }
    }

    @Test func vectorsCoverEveryTailLength() throws {
        // The tail switch falls through from 3 to 1; keys of every length modulo 4 exercise it.
        let tails = Set(try VectorLoader.partitionedKeys().map { $0.key.count % 4 })
        #expect(tails == [0, 1, 2, 3])
    }

    @Test func hashOfAnyBytesNeverTrapsAndStaysInRange() {
        // Bytes with the high bit set are where sign extension would go wrong in a port.
        var generator = SplitMix64(seed: 0x5eed)
        for length in 0..<300 {
            let key = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let partition = Partitioner.partition(forKey: key, partitionCount: 7)
            #expect((0..<7).contains(partition))
        }
        #expect(Partitioner.partition(forKey: [0xff, 0xff, 0xff, 0xff, 0x80], partitionCount: Int(Int32.max)) >= 0)
    }

    @Test func unalignedBufferHashesLikeAnAlignedOne() {
        // The body reads 4-byte words straight from the buffer, which may start anywhere.
        let key = Array("order-000000042".utf8)
        let expected = Partitioner.murmur2(key)
        for shift in 1...7 {
            let padded = [UInt8](repeating: 0xaa, count: shift) + key
            let hash = padded.withUnsafeBytes { Murmur2.hash(UnsafeRawBufferPointer(rebasing: $0[shift...])) }
            #expect(hash == expected, "key starting \(shift) bytes into its buffer")
        }
    }
}
