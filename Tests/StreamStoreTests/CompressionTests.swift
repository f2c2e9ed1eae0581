import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// zstd-compressed batches (Kafka codec 4): round trips, corrupt frames, mixed codecs.
@Suite(.timeLimit(.minutes(5))) struct CompressionTests {
    /// A realistic order event of about 300 bytes, varied like real data.
    static func orderEvent(_ index: Int, random: inout SplitMix64) -> String {
        let types = ["order-placed", "order-paid", "order-shipped"]
        let cities = ["Lisbon", "Berlin", "Osaka", "Austin", "Nairobi", "Lyon"]
        return """
            {"type":"\(types[index % 3])","orderId":"o-\(100_000 + index)","customerId":"customer-\(random.upTo(4_999))",\
            "amountCents":\(random.upTo(99_999) + 100),"currency":"EUR","items":\(random.upTo(7) + 1),\
            "city":"\(cities[random.upTo(cities.count - 1)])","placedAt":"2026-11-29T\(10 + random.upTo(9)):\(10 + random.upTo(49)):00Z",\
            "correlationId":"c-\(index / 3)","sku":"SKU-\(random.upTo(999_999))"}
            """
    }

    private func roundTrip(level: Int, values: [[UInt8]]) async throws -> (logBytes: Int, records: [StoredRecord]) {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never, compression: .zstd(level: level)))
        var batch = RecordBatch()
        for value in values { try batch.append(key: Array("k".utf8), value: value, headers: [RecordHeader(key: "h", value: "v")]) }
        _ = try await topic.append(batch, partition: 0)
        let records = try fixture.readAll(topic)
        try fixture.expectConsistent()
        let logBytes = try fixture.segmentFiles().reduce(0) { $0 + (try fixture.fileSize($1)) }
        return (logBytes, records)
    }

    @Test(arguments: [1, 3, 9, 19])
    func compressedBatchesRoundTripAtEveryLevel(level: Int) async throws {
        var random = SplitMix64(seed: TestSeed.value)
        let values = (0..<1_000).map { Array(Self.orderEvent($0, random: &random).utf8) }
        let (logBytes, records) = try await roundTrip(level: level, values: values)
        #expect(records.count == values.count, "seed \(TestSeed.value)")
        for (record, value) in zip(records, values) { #expect(BatchFixtures.sameBytes(record.value, value[...])) }
        #expect(records.allSatisfy { $0.header("h")?.stringValue == "v" })
        let plain = values.reduce(0) { $0 + $1.count }
        #expect(logBytes * 3 < plain, "level \(level): \(logBytes) bytes on disk for \(plain) of values")
    }

    @Test func singleRecordAndIncompressibleDataRoundTrip() async throws {
        var random = SplitMix64(seed: TestSeed.value)
        let noise = (0..<50_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let (_, one) = try await roundTrip(level: 3, values: [Array("x".utf8)])
        #expect(one.map(\.valueString) == ["x"])
        let (_, noisy) = try await roundTrip(level: 3, values: [noise, noise.reversed()])
        #expect(noisy.count == 2)
        #expect(BatchFixtures.sameBytes(noisy[0].value, noise[...]))
    }

    @Test func incompressibleBatchesAreStoredUncompressed() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never, compression: .zstd(level: 3)))
        var random = SplitMix64(seed: TestSeed.value)
        var batch = RecordBatch()
        for _ in 0..<20 { try batch.append(key: nil, value: (0..<500).map { _ in UInt8(truncatingIfNeeded: random.next()) }) }
        _ = try await topic.append(batch, partition: 0)
        batch.removeAll()
        for _ in 0..<20 { try batch.append(key: nil, value: Array(String(repeating: "compressible ", count: 40).utf8)) }
        _ = try await topic.append(batch, partition: 0)
        let batches = try topic.readBatches(partition: 0, from: 0)
        #expect(batches.map { $0.header.compressionCodec } == [0, 4], "seed \(TestSeed.value)")
        #expect(try fixture.readAll(topic).count == 40)
    }

    @Test func batchNearTheSizeLimitRoundTrips() async throws {
        var random = SplitMix64(seed: TestSeed.value)
        let big = (0..<(Limits.maxRecordBytes - 64)).map { _ in UInt8(truncatingIfNeeded: random.next() % 7) }
        let (_, records) = try await roundTrip(level: 1, values: [big])
        #expect(records.count == 1)
        #expect(BatchFixtures.sameBytes(records[0].value, big[...]))
    }

    /// A compressed batch whose frame was damaged and whose CRC was then recomputed (so only the
    /// frame itself can catch it) gives a typed error naming the batch, never a crash.
    @Test(arguments: ["truncated", "garbage", "huge"])
    func damagedFramesWithValidCRCGiveTypedErrors(damage: String) throws {
        var batch = RecordBatch()
        for index in 0..<50 { try batch.append(key: nil, value: Array("value-\(index)-\(String(repeating: "z", count: 40))".utf8)) }
        let compressor = ZstdCompressor(level: 3)
        var frame = try batch.withRecordBytes { (records) throws(StreamStoreError) in Array(try compressor.compress(records)) }
        switch damage {
        case "truncated": frame.removeLast(frame.count / 3)
        case "garbage": for index in stride(from: 8, to: frame.count, by: 3) { frame[index] ^= 0x5A }
        default:
            // A frame header that declares 1 GiB of content: refused before anything is allocated.
            var header = [UInt8]([0x28, 0xB5, 0x2F, 0xFD, 0xA0])
            withUnsafeBytes(of: UInt32(1 << 30).littleEndian) { header += $0 }
            frame = header + frame.dropFirst(6)
        }
        let bytes = frame.withUnsafeBytes { body in
            var header = batch.sealedHeader(appendTimeMilliseconds: 1, body: body, codec: Compression.zstdCodecID)
            header.baseOffset = 0
            var bytes = [UInt8](repeating: 0, count: BatchHeader.size)
            bytes.withUnsafeMutableBytes { header.store(to: $0.baseAddress!) }
            return bytes + Array(body)
        }
        let parsed = BatchParser.parse(bytes)
        let stored = try #require(parsed.batches.first, "the CRC is valid, so the batch parses")
        do {
            _ = try stored.decompressed(with: ZstdDecompressor(), position: "segment 0, byte 0")
            Issue.record("a damaged frame must not decompress (\(damage))")
        } catch {
            #expect(error.code == .corruptBatch)
            #expect(error.message.contains("offset 0") && error.message.contains("segment 0, byte 0"))
        }
    }

    @Test func segmentsMixingCodecsReadBack() async throws {
        let fixture = try StoreFixture()
        var topic = try fixture.topic(config: TopicConfig(flush: .never))
        try await fixture.append(topic, count: 100, batchSize: 10)
        // An operator changes the topic to zstd; batches written before keep their codec.
        try fixture.store?.close()
        fixture.store = nil
        let configPath = fixture.path + "/events/topic.json"
        let json = try String(contentsOfFile: configPath, encoding: .utf8)
        #expect(json.contains("\"compression\" : \"none\""))
        try json.replacingOccurrences(of: "\"compression\" : \"none\"", with: "\"compression\" : \"zstd:3\"").write(toFile: configPath, atomically: true, encoding: .utf8)
        topic = try fixture.open().topic("events")
        #expect(topic.config.compression == .zstd(level: 3))
        try await fixture.append(topic, count: 100, batchSize: 10, first: 100)
        #expect(try fixture.segmentFiles().count == 1)
        #expect(values(try fixture.readAll(topic)) == (0..<200).map { "value-\($0)" })
        #expect(try topic.read(partition: 0, from: 95, maxBytes: 1).first?.offset == 95)
        #expect(try topic.read(partition: 0, from: 155, maxBytes: 1).first?.offset == 155)
        try fixture.expectConsistent()
    }

    @Test func compressionSettingRoundTripsThroughTopicJSON() throws {
        let fixture = try StoreFixture()
        _ = try fixture.open().createTopic("z", config: TopicConfig(compression: .zstd(level: 7)))
        #expect(try fixture.reopen().topic("z").config.compression == .zstd(level: 7))
        #expect(Compression(configValue: "zstd") == .zstd(level: 3))
        #expect(Compression(configValue: "zstd:-5") == .zstd(level: -5))
        #expect(Compression(configValue: "gzip") == nil)
        expectStoreError(.invalidConfig) { try TopicConfig(compression: .zstd(level: 99)).validate() }
    }
}
