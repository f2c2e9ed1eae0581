import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

@Suite struct ControlBatchTests {
    @Test func controlBatchesTakeOffsetsButYieldNoRecords() throws {
        var batch = RecordBatch()
        try batch.append(key: [0, 0, 0, 1], value: [0, 0, 0, 0, 0, 0])
        var bytes = batch.encoded(baseOffset: 7, appendTimeMilliseconds: 1_000)
        // Set the control bit (attributes bit 5) and reseal the CRC, as a Kafka transaction
        // coordinator's marker would be.
        bytes[BatchHeader.Field.attributes + 1] |= 0x20
        let crc = CRC32C.checksum(Array(bytes[BatchHeader.Field.attributes...]))
        bytes.withUnsafeMutableBytes { BigEndian.store(crc, $0.baseAddress!, BatchHeader.Field.crc) }
        let parsed = BatchParser.parse(bytes)
        let stored = try #require(parsed.batches.first)
        #expect(stored.isControl)
        #expect(stored.nextOffset == 8)
        #expect(try stored.storedRecords().isEmpty)
        var visited = 0
        try stored.forEachRecord { _ in visited += 1 }
        #expect(visited == 0)
    }
}
