import StreamStoreFormat
/// A partition's `producers` file: its idempotent-producer state as of an offset, so opening
/// the partition scans only the batch headers after that offset instead of the whole log
/// (docs/FORMAT.md, "Producer state").
///
/// ```
///  0 magic "SSPR"             16 snapshotOffset int64: the state covers batches below it
///  4 version uint16 (= 1)     24 producerCount uint32
///  6 reserved uint16 (= 0)    28 entries ...
///  8 crc32c uint32 of bytes 12..<end
/// 12 reserved uint32 (= 0)
///
/// entry: producerId int64, epoch int16, batchCount uint8 (1...5), reserved uint8,
///        lastAppendMilliseconds int64,
///        batchCount × (firstSequence int32, lastSequence int32, baseOffset int64, lastOffset int64)
/// ```
/// Big-endian, replaced atomically; a file that fails any check is ignored and the state is
/// rebuilt from the log's batch headers.
package struct ProducerSnapshot: Equatable {
    static let magic: [UInt8] = Array("SSPR".utf8)
    static let version: UInt16 = 1
    static let headerBytes = 28
    static let entryFixedBytes = 20
    static let batchBytes = 24

    var snapshotOffset: Int64
    var table: ProducerStateTable

    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.headerBytes)
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        for (producerId, entry) in table.producers.sorted(by: { $0.key < $1.key }) {
            append(producerId)
            append(entry.epoch)
            append(UInt8(entry.batches.count))
            append(UInt8(0))
            append(entry.lastAppendMilliseconds)
            for batch in entry.batches {
                append(batch.firstSequence)
                append(batch.lastSequence)
                append(batch.baseOffset)
                append(batch.lastOffset)
            }
        }
        bytes.withUnsafeMutableBytes { raw in
            for (index, byte) in Self.magic.enumerated() { raw.storeBytes(of: byte, toByteOffset: index, as: UInt8.self) }
            BigEndian.store(Self.version, raw, 4)
            BigEndian.store(snapshotOffset, raw, 16)
            BigEndian.store(UInt32(table.producers.count), raw, 24)
            BigEndian.store(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[12...])), raw, 8)
        }
        return bytes
    }

    /// Decodes and checks a snapshot; nil when it is not a valid one.
    static func decode(_ bytes: [UInt8], capacity: Int = Limits.maxProducersPerPartition) -> ProducerSnapshot? {
        guard bytes.count >= headerBytes else { return nil }
        return bytes.withUnsafeBytes { raw -> ProducerSnapshot? in
            guard Array(raw[0..<4]) == magic, BigEndian.load(UInt16.self, raw, 4) == version, BigEndian.load(UInt16.self, raw, 6) == 0,
                BigEndian.load(UInt32.self, raw, 8) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[12...]))
            else { return nil }
            let snapshotOffset = BigEndian.load(Int64.self, raw, 16)
            let count = Int(BigEndian.load(UInt32.self, raw, 24))
            guard snapshotOffset >= 0, count <= capacity else { return nil }
            var table = ProducerStateTable(capacity: capacity)
            var position = headerBytes
            for _ in 0..<count {
                guard position + entryFixedBytes <= raw.count else { return nil }
                let producerId = BigEndian.load(Int64.self, raw, position)
                let epoch = BigEndian.load(Int16.self, raw, position + 8)
                let batchCount = Int(raw[position + 10])
                let lastAppend = BigEndian.load(Int64.self, raw, position + 12)
                position += entryFixedBytes
                guard producerId >= 0, epoch >= 0, (1...ProducerStateTable.batchesKept).contains(batchCount),
                    position + batchCount * batchBytes <= raw.count
                else { return nil }
                var batches: [ProducerStateTable.Batch] = []
                for _ in 0..<batchCount {
                    let batch = ProducerStateTable.Batch(
                        firstSequence: BigEndian.load(Int32.self, raw, position),
                        lastSequence: BigEndian.load(Int32.self, raw, position + 4),
                        baseOffset: BigEndian.load(Int64.self, raw, position + 8),
                        lastOffset: BigEndian.load(Int64.self, raw, position + 16))
                    guard batch.firstSequence >= 0, batch.lastSequence >= 0, batch.baseOffset >= 0, batch.lastOffset >= batch.baseOffset,
                        batch.lastOffset < snapshotOffset
                    else { return nil }
                    batches.append(batch)
                    position += batchBytes
                }
                table.restore(producerId: producerId, entry: .init(epoch: epoch, batches: batches, lastAppendMilliseconds: lastAppend))
            }
            guard position == raw.count else { return nil }
            return ProducerSnapshot(snapshotOffset: snapshotOffset, table: table)
        }
    }
}
