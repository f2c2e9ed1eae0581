import Foundation
import StreamStore
import Testing

/// Reads the test vectors in `Vectors/` (made by an independent Kafka implementation; see
/// `Vectors/README.md`) into plain values.
enum VectorLoader {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One RecordBatch file and the records it must decode to.
    struct Batch: Sendable, CustomTestStringConvertible {
        var file: String
        var baseOffset: Int64
        var codec: Int
        var producerId: Int64
        var producerEpoch: Int16
        var baseSequence: Int32
        var byteCount: Int
        var records: [StoredRecord]
        /// The file's bytes.
        var bytes: [UInt8]

        var testDescription: String { file }
    }

    /// One key and where Kafka's default partitioner puts it.
    struct PartitionedKey: Sendable, CustomTestStringConvertible {
        var key: [UInt8]
        var murmur2: Int32
        var positive: Int32
        /// Partition count to partition.
        var partitionFor: [Int: Int]

        var testDescription: String { "key \"\(String(decoding: key, as: UTF8.self))\"" }
    }

    static func batches() throws -> [Batch] {
        let entries = try JSONDecoder().decode([BatchEntry].self, from: vectorFile("kafka-v2-batches.json"))
        return try entries.map { entry in
            Batch(
                file: entry.file, baseOffset: entry.baseOffset, codec: entry.codec,
                producerId: entry.producerId, producerEpoch: entry.producerEpoch, baseSequence: entry.baseSequence,
                byteCount: entry.byteCount,
                records: try entry.records.map { record in
                    StoredRecord(
                        offset: record.offset, timestamp: record.timestamp,
                        key: try record.key.map { ArraySlice(try latin1($0)) },
                        value: try record.value.map { ArraySlice(try latin1($0)) },
                        headers: try record.headers.map { pair in
                            guard pair.count == 2, let key = pair[0] else {
                                throw Failure(description: "\(entry.file): a header is not a [key, value] pair")
                            }
                            return RecordHeader(
                                key: String(decoding: try latin1(key), as: UTF8.self),
                                value: try pair[1].map(latin1))
                        })
                },
                bytes: Array(try vectorFile(entry.file)))
        }
    }

    static func partitionedKeys() throws -> [PartitionedKey] {
        let entries = try JSONDecoder().decode([KeyEntry].self, from: vectorFile("murmur2-partitions.json"))
        return try entries.map { entry in
            var partitionFor: [Int: Int] = [:]
            for (count, partition) in entry.partitionFor {
                guard let count = Int(count) else { throw Failure(description: "partition count \(count) is not a number") }
                partitionFor[count] = partition
            }
            return PartitionedKey(key: Array(entry.key.utf8), murmur2: entry.murmur2, positive: entry.positive, partitionFor: partitionFor)
        }
    }

    /// The vectors write bytes as Latin-1 text: each Unicode scalar is one byte.
    static func latin1(_ text: String) throws -> [UInt8] {
        try text.unicodeScalars.map { scalar in
            guard let byte = UInt8(exactly: scalar.value) else {
                throw Failure(description: "U+\(String(scalar.value, radix: 16)) is not a Latin-1 byte")
            }
            return byte
        }
    }

    /// The contents of `Vectors/<file>`, copied into the test bundle by the package's resources.
    private static func vectorFile(_ file: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Vectors") else {
            throw Failure(description: "Vectors/\(file) is not in the test bundle")
        }
        return try Data(contentsOf: url)
    }

    private struct BatchEntry: Decodable {
        var file: String
        var baseOffset: Int64
        var codec: Int
        var producerId: Int64
        var producerEpoch: Int16
        var baseSequence: Int32
        var byteCount: Int
        var records: [RecordEntry]
    }

    private struct RecordEntry: Decodable {
        var offset: Int64
        var timestamp: Int64
        var key: String?
        var value: String?
        var headers: [[String?]]
    }

    private struct KeyEntry: Decodable {
        var key: String
        var murmur2: Int32
        var positive: Int32
        var partitionFor: [String: Int]
    }
}
