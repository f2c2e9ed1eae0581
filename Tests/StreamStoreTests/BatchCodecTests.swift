import CStreamStoreShims
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// The RecordBatch v2 codec: Kafka's vectors, random round trips, damaged bytes, varints, CRC32C
/// and record limits. Random tests print their seed; set `STREAMSTORE_SEED` to replay one.
struct BatchCodecTests {
    // MARK: Kafka's vectors

    @Test(arguments: try VectorLoader.batches())
    func kafkaBatchDecodesToItsRecords(_ vector: VectorLoader.Batch) throws {
        #expect(vector.bytes.count == vector.byteCount)
        let header = try #require(BatchFixtures.validHeader(vector.bytes, expectedBaseOffset: vector.baseOffset))
        #expect(header.compressionCodec == vector.codec)
        #expect(header.totalBytes == vector.byteCount)

        let (batch, records) = try BatchFixtures.readAll(vector.bytes)
        #expect(records == vector.records)
        #expect(batch.baseOffset == vector.baseOffset)
        #expect(batch.recordCount == vector.records.count)
        #expect(batch.nextOffset == vector.baseOffset + Int64(vector.records.count))
        #expect(batch.producerId == vector.producerId)
        #expect(batch.producerEpoch == vector.producerEpoch)
        #expect(batch.baseSequence == vector.baseSequence)
    }

    @Test(arguments: try VectorLoader.batches().filter { $0.codec == 0 })
    func kafkaBatchIsEncodedByteForByte(_ vector: VectorLoader.Batch) throws {
        var batch = RecordBatch()
        batch.producerId = vector.producerId
        batch.producerEpoch = vector.producerEpoch
        batch.baseSequence = vector.baseSequence
        for record in vector.records {
            try batch.append(
                key: record.key.map(Array.init), value: record.value.map(Array.init), headers: record.headers,
                timestamp: record.timestamp)
        }
        let encoded = batch.encoded(baseOffset: vector.baseOffset, appendTimeMilliseconds: 0, partitionLeaderEpoch: 0)
        #expect(encoded == vector.bytes)
        #expect(batch.byteCount == vector.byteCount)
    }

    /// Codecs other than none and zstd (gzip, snappy, lz4) are reported as unreadable, never
    /// misread as records.
    @Test func otherCodecsAreReportedAsUnreadable() throws {
        let vector = try #require(try VectorLoader.batches().first { $0.codec == 4 })
        var bytes = vector.bytes
        bytes[BatchHeader.Field.attributes + 1] = (bytes[BatchHeader.Field.attributes + 1] & ~0x07) | 0x01
        let crc = CRC32C.checksum(Array(bytes[BatchHeader.Field.attributes...]))
        bytes.withUnsafeMutableBytes { BigEndian.store(crc, $0.baseAddress!, BatchHeader.Field.crc) }
        let result = BatchParser.parse(bytes)
        #expect(result.batches.isEmpty)
        #expect(result.consumedBytes == 0)
        let corruption = try #require(result.corruption)
        #expect(corruption.contains("codec 1"))
    }

    /// `two-records.bin` pinned here too, field by field, so an edited vector file cannot pass
    /// silently (docs/FORMAT.md, worked example).
    static let workedExample = hexBytes(
        "0000000000000000", "000000b9", "00000000", "02", "8ea98b24",  // base offset, length 185, epoch, magic, CRC
        "0000", "00000001", "0000019acf0e1d00", "0000019acf0e1d05",  // attributes, last delta, timestamps
        "ffffffffffffffff", "ffff", "ffffffff", "00000002",  // producer id, epoch, sequence, 2 records
        // Record 0: length 90, attributes, deltas 0 and 0, key "customer-17", 39-byte value,
        // 2 headers: correlation-id = c-1, message-id = m-1.
        "b401", "00", "00", "00", "16", "637573746f6d65722d3137",
        "4e", "7b2274797065223a226f726465722d706c61636564222c226f726465724964223a226f2d31227d",
        "04", "1c", "636f7272656c6174696f6e2d6964", "06", "632d31", "14", "6d6573736167652d6964", "06", "6d2d31",
        // Record 1: length 43, attributes, timestamp delta 5, offset delta 1, null key, 37-byte value, no headers.
        "56", "00", "0a", "02", "01",
        "4a", "7b2274797065223a226f726465722d70616964222c226f726465724964223a226f2d31227d", "00")

    @Test func workedExampleIsPinned() throws {
        let vector = try #require(try VectorLoader.batches().first { $0.file == "two-records.bin" })
        #expect(Self.workedExample.count == 197)
        #expect(vector.bytes == Self.workedExample)
        let header = try #require(BatchFixtures.validHeader(Self.workedExample))
        #expect(header.crc == 0x8ea9_8b24)
        let covered = Array(Self.workedExample[BatchHeader.Field.attributes...])
        #expect(CRC32C.checksum(covered) == 0x8ea9_8b24)

        let (_, records) = try BatchFixtures.readAll(Self.workedExample)
        #expect(records.map(\.keyString) == ["customer-17", nil])
        #expect(records.map(\.timestamp) == [1_764_410_400_000, 1_764_410_400_005])
        #expect(records[0].header("correlation-id")?.stringValue == "c-1")
    }

    // MARK: Random round trips

    @Test func randomBatchesRoundTrip() throws {
        var random = SplitMix64(seed: TestSeed.value)
        var reused = RecordBatch(capacityBytes: 0)
        for iteration in 0..<300 {
            let context = Comment(rawValue: "iteration \(iteration); \(TestSeed.replay)")
            let batch = try BatchFixtures.randomBatch(&random, reusing: &reused)
            // Put the batch after some other bytes, as it lies in a read buffer.
            let padding = [UInt8](repeating: 0xee, count: random.upTo(16))
            let buffer = padding + batch.bytes

            guard case .valid(let header) = BatchFixtures.probe(buffer, at: padding.count, expectedBaseOffset: batch.baseOffset)
            else {
                Issue.record("a freshly encoded batch does not probe as valid; \(context.rawValue)")
                return
            }
            try #require(header.totalBytes == batch.bytes.count, context)
            try #require(header.isLogAppendTime == batch.usesAppendTime, context)
            try #require(header.maxTimestamp == batch.maxTimestamp, context)
            try #require(header.partitionLeaderEpoch == batch.partitionLeaderEpoch, context)
            try #require(header.lastOffsetDelta == Int32(batch.expected.count - 1), context)

            let result = BatchParser.parse(buffer, from: padding.count, expectedBaseOffset: batch.baseOffset)
            try #require(result.corruption == nil && result.batches.count == 1, context)
            try #require(result.consumedBytes == batch.bytes.count, context)
            let stored = result.batches[0]
            try #require(stored.producerId == batch.producerId && stored.producerEpoch == batch.producerEpoch, context)
            try #require(stored.baseSequence == batch.baseSequence, context)
            let records = try stored.storedRecords()
            guard BatchFixtures.sameRecords(records, batch.expected) else {
                #expect(records == batch.expected, context)
                return
            }

            // The zero-copy views must show the same records (from the second one on).
            var viewed = 0
            var mismatches: [Int64] = []
            try stored.forEachRecord(from: batch.baseOffset + 1) { view in
                viewed += 1
                if !BatchFixtures.view(view, shows: batch.expected[Int(view.offset - batch.baseOffset)]) { mismatches.append(view.offset) }
            }
            try #require(viewed == batch.expected.count - 1 && mismatches.isEmpty, "views differ at offsets \(mismatches); \(context.rawValue)")
        }
    }

    /// Timestamp deltas wrap as in Kafka, so even the farthest-apart timestamps round-trip.
    /// (Whether a topic accepts them is the append path's decision, not the codec's.)
    @Test func extremeTimestampsRoundTrip() throws {
        let timestamps: [Int64] = [0, .min, .max, -1, .max, .min]
        var batch = RecordBatch()
        for timestamp in timestamps { try batch.append(key: nil, value: [0x2a], timestamp: timestamp) }
        let bytes = batch.encoded(baseOffset: 0, appendTimeMilliseconds: 0)
        let (stored, records) = try BatchFixtures.readAll(bytes)
        #expect(records.map(\.timestamp) == timestamps)
        #expect(stored.maxTimestamp == .max)
    }

    @Test func batchesBackToBackParseInOrderAndStopAtATornTail() throws {
        var random = SplitMix64(seed: TestSeed.value)
        var log: [UInt8] = []
        var expected: [StoredRecord] = []
        var nextOffset: Int64 = 0
        for _ in 0..<5 {
            var batch = RecordBatch()
            for _ in 0..<(1 + random.upTo(9)) {
                let value = BatchFixtures.randomBytes(&random, from: BatchFixtures.randomPool(&random), maxCount: 100)
                try batch.append(key: nil, value: value, timestamp: 1_000 + nextOffset)
                expected.append(
                    StoredRecord(offset: nextOffset, timestamp: 1_000 + nextOffset, key: nil, value: ArraySlice(value), headers: []))
                nextOffset += 1
            }
            log += batch.encoded(baseOffset: nextOffset - Int64(batch.count), appendTimeMilliseconds: 0)
        }
        let whole = BatchParser.parse(log, expectedBaseOffset: 0)
        #expect(whole.batches.count == 5 && whole.consumedBytes == log.count && whole.corruption == nil)
        #expect(try whole.batches.flatMap { try $0.storedRecords() } == expected, "\(TestSeed.replay)")

        let torn = BatchParser.parse(Array(log.dropLast(3)), expectedBaseOffset: 0)
        #expect(torn.batches.count == 4 && torn.corruption == nil)
        #expect(torn.incompleteBatchBytes == log.count - torn.consumedBytes)

        let gapped = BatchParser.parse(log, expectedBaseOffset: 1)
        #expect(gapped.batches.isEmpty && gapped.corruption != nil)
    }

    // MARK: Damaged bytes

    /// A single changed byte is caught: CRC32C detects every error within 32 bits. The only
    /// bytes outside every check are the partition leader epoch (12..<16), which Kafka leaves
    /// out of the CRC so a broker can restamp it; changing it leaves the records as they were.
    @Test func flippedByteIsNeverReadAsDifferentContent() throws {
        var random = SplitMix64(seed: TestSeed.value)
        let samples = [Self.workedExample, try BatchFixtures.randomBatch(&random, maxRecords: 20).bytes]
        for original in samples {
            let originalRecords = try BatchFixtures.readAll(original).1
            for index in BatchHeader.Field.batchLength..<original.count {
                for mask: UInt8 in [0x01, 0x80, 0xff] {
                    let damaged = BatchFixtures.flipByte(original, at: index, mask: mask)
                    let context = Comment(rawValue: "byte \(index) ^ \(mask); \(TestSeed.replay)")
                    if (BatchHeader.Field.partitionLeaderEpoch..<BatchHeader.Field.magic).contains(index) {
                        #expect(try BatchFixtures.readAll(damaged).1 == originalRecords, context)
                    } else {
                        #expect(!BatchFixtures.probe(damaged).isValid, context)
                    }
                }
            }
        }
    }

    /// The base offset is outside the CRC (so offsets can be assigned after sealing); a damaged
    /// one is caught by the offset the log expects next.
    @Test func flippedBaseOffsetIsCaughtByTheExpectedOffset() {
        for index in 0..<BatchHeader.Field.batchLength {
            let damaged = BatchFixtures.flipByte(Self.workedExample, at: index, mask: 0x01)
            #expect(!BatchFixtures.probe(damaged, expectedBaseOffset: 0).isValid, "byte \(index)")
        }
    }

    @Test func truncatedBatchIsIncomplete() {
        for count in 0..<Self.workedExample.count {
            let truncated = Array(Self.workedExample.prefix(count))
            #expect(BatchFixtures.probe(truncated) == .incomplete(availableBytes: count), "\(count) bytes")
            let result = BatchParser.parse(truncated)
            #expect(result.batches.isEmpty && result.consumedBytes == 0 && result.corruption == nil)
            // What the parser asks a reader to fetch: the length prefix first, then the whole batch.
            let needed: Int? =
                switch count {
                case 0: nil
                case ..<BatchHeader.lengthPrefixSize: BatchHeader.lengthPrefixSize
                default: Self.workedExample.count
                }
            #expect(result.incompleteBatchBytes == needed, "\(count) bytes")
        }
        #expect(BatchFixtures.probe(Self.workedExample, at: Self.workedExample.count + 5) == .incomplete(availableBytes: 0))
    }

    @Test func zeroedBytesAreCorrupt() {
        for count in [BatchHeader.lengthPrefixSize, BatchHeader.size, 4096] {
            guard case .corrupt(let reason) = BatchFixtures.probe([UInt8](repeating: 0, count: count)) else {
                Issue.record("\(count) zero bytes are not reported as corrupt")
                continue
            }
            #expect(reason.contains("zeroed"))
        }
    }

    /// A length no batch may have is corrupt at once, from the 12-byte prefix alone, so a reader
    /// never waits for (or allocates) the bytes it claims.
    @Test func impossibleLengthIsCorruptBeforeItsBytesAreRead() {
        let prefix = Array(Self.workedExample.prefix(BatchHeader.lengthPrefixSize))
        for length: Int32 in [.max, .min, -1, 0, 48, Int32(Limits.maxBatchBytes - BatchHeader.lengthPrefixSize + 1)] {
            var bytes = prefix
            bytes.withUnsafeMutableBytes { BigEndian.store(length, $0.baseAddress!, BatchHeader.Field.batchLength) }
            guard case .corrupt = BatchFixtures.probe(bytes) else {
                Issue.record("batch length \(length) is not reported as corrupt")
                continue
            }
        }
        var largest = prefix
        let largestLength = Int32(Limits.maxBatchBytes - BatchHeader.lengthPrefixSize)
        largest.withUnsafeMutableBytes { BigEndian.store(largestLength, $0.baseAddress!, BatchHeader.Field.batchLength) }
        #expect(BatchFixtures.probe(largest) == .incomplete(availableBytes: BatchHeader.lengthPrefixSize))
    }

    /// The CRC only proves the bytes are what some writer wrote. Records a buggy writer made
    /// must decode or throw `.corruptBatch`, never trap or read outside the batch.
    @Test func garbageRecordsWithValidCRCDecodeOrThrowCorruptBatch() throws {
        var random = SplitMix64(seed: TestSeed.value)
        for _ in 0..<3000 {
            let recordCount = random.upTo(6)
            let header = BatchHeader(
                baseOffset: Int64(random.upTo(1 << 40)), batchLength: 0,
                attributes: random.oneIn(2) ? 0 : BatchHeader.Attribute.logAppendTime,
                lastOffsetDelta: Int32(max(0, recordCount - 1) + random.upTo(2)),
                baseTimestamp: Int64(random.next() >> 1), maxTimestamp: Int64(random.next() >> 1),
                recordCount: Int32(recordCount))
            var bytes = [UInt8](repeating: 0, count: BatchHeader.size)
            bytes.withUnsafeMutableBytes { header.store(to: $0.baseAddress!) }
            for _ in 0..<random.upTo(recordCount * 12) { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
            bytes = BatchFixtures.resealed(bytes)
            try #require(BatchFixtures.probe(bytes).isValid, "\(TestSeed.replay)")
            expectDecodesOrThrowsCorruptBatch(bytes)
        }
    }

    /// Like the garbage test, but starting from well-formed records, so damage reaches deep
    /// into the decoder (header counts, lengths, trailing bytes) instead of failing at once.
    @Test func damagedRecordsWithValidCRCDecodeOrThrowCorruptBatch() throws {
        var random = SplitMix64(seed: TestSeed.value)
        var outcomes = (decoded: 0, rejected: 0)
        for _ in 0..<3000 {
            var bytes = try BatchFixtures.randomBatch(&random, maxRecords: 4).bytes
            for _ in 0..<(1 + random.upTo(2)) {
                switch random.upTo(3) {
                case 0: bytes.removeLast(min(bytes.count - BatchHeader.size, 1 + random.upTo(3)))
                case 1: bytes.append(UInt8(truncatingIfNeeded: random.next()))
                default:
                    guard bytes.count > BatchHeader.size else { continue }
                    let index = BatchHeader.size + random.upTo(bytes.count - BatchHeader.size - 1)
                    bytes[index] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            bytes = BatchFixtures.resealed(bytes)
            if expectDecodesOrThrowsCorruptBatch(bytes) { outcomes.decoded += 1 } else { outcomes.rejected += 1 }
        }
        #expect(outcomes.decoded > 0 && outcomes.rejected > 0, "both paths exercised; \(TestSeed.replay)")
    }

    /// The base offset is outside the CRC, so a damaged one can be anything; a batch whose
    /// offsets would pass `Int64.max` must be corrupt, not a trap in offset arithmetic.
    @Test func baseOffsetWhoseOffsetsOverflowIsCorrupt() throws {
        for baseOffset in [Int64.max, Int64.max - 1] {
            var bytes = Self.workedExample
            bytes.withUnsafeMutableBytes { BigEndian.store(baseOffset, $0.baseAddress!, BatchHeader.Field.baseOffset) }
            #expect(!BatchFixtures.probe(bytes).isValid, "base offset \(baseOffset)")
        }
        var lastFitting = Self.workedExample
        lastFitting.withUnsafeMutableBytes { BigEndian.store(Int64.max - 2, $0.baseAddress!, BatchHeader.Field.baseOffset) }
        let (batch, records) = try BatchFixtures.readAll(lastFitting)
        #expect(batch.nextOffset == .max && records.last?.offset == .max - 1)
    }

    /// Decodes `bytes` every way a reader can; true when it decoded, false when a check
    /// rejected it (as `.corruptBatch`).
    @discardableResult
    private func expectDecodesOrThrowsCorruptBatch(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let result = BatchParser.parse(bytes)
        guard let batch = result.batches.first else {
            #expect(result.corruption != nil, sourceLocation: sourceLocation)
            return false
        }
        do {
            _ = try batch.storedRecords()
            try batch.forEachRecord { view in _ = (view.key, view.value, view.headers) }
            return true
        } catch {
            #expect(error.code == .corruptBatch, "\(TestSeed.replay)", sourceLocation: sourceLocation)
        }
        return false
    }

    // MARK: Varints

    static let boundaryValues: [Int64] = [
        0, -1, 1, 63, -64, 64, -65, 8191, -8192, 8192,
        Int64(Int32.min), Int64(Int32.max), Int64(Int32.min) - 1, Int64(Int32.max) + 1, .min, .max, .min + 1, .max - 1,
    ]

    @Test func zigZagRoundTripsBoundaryValues() {
        for value in Self.boundaryValues {
            #expect(Varint.unZigZag(Varint.zigZag(value)) == value, "\(value)")
        }
        #expect(Varint.zigZag(0) == 0 && Varint.zigZag(-1) == 1 && Varint.zigZag(1) == 2)
        #expect(Varint.zigZag(.min) == .max && Varint.zigZag(.max) == .max - 1)
    }

    @Test func varintSizeMatchesBytesWrittenAndReadBack() {
        var random = SplitMix64(seed: TestSeed.value)
        let values = Self.boundaryValues + (0..<2000).map { _ in Int64(bitPattern: random.next()) >> random.upTo(63) }
        for value in values {
            let encoded = Self.varintBytes(value)
            #expect(encoded.count == Varint.size(value), "\(value)")
            let decoded = encoded.withUnsafeBytes { raw in
                var reader = ByteReader(raw)
                return (reader.readVarint(maxBytes: 10), reader.position)
            }
            #expect(decoded.0 == value && decoded.1 == encoded.count, "\(value); \(TestSeed.replay)")
        }
        #expect(Self.varintBytes(Int64(Int32.max)) == [0xfe, 0xff, 0xff, 0xff, 0x0f])
        #expect(Self.varintBytes(.min) == [UInt8](repeating: 0xff, count: 9) + [0x01])
    }

    @Test func readVarintRejectsOverlongInput() {
        let sixBytes: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x80, 0x00]
        #expect(Self.readVarint(sixBytes, maxBytes: 5) == nil)
        #expect(Self.readVarint(sixBytes, maxBytes: 6) == 0)
        let elevenBytes = [UInt8](repeating: 0x80, count: 10) + [0x00]
        #expect(Self.readVarint(elevenBytes, maxBytes: 10) == nil)
        #expect(Self.readVarint(Self.varintBytes(Int64(Int32.max) + 1), maxBytes: 5) != nil, "35-bit values fit 5 bytes")
        #expect(Self.readVarint(Self.varintBytes(Int64(1) << 35), maxBytes: 5) == nil)
    }

    @Test func readVarintRejectsTruncatedInput() {
        #expect(Self.readVarint([], maxBytes: 10) == nil)
        for value in Self.boundaryValues where Varint.size(value) > 1 {
            let encoded = Self.varintBytes(value)
            for count in 0..<encoded.count {
                #expect(Self.readVarint(Array(encoded.prefix(count)), maxBytes: 10) == nil, "\(value) cut to \(count) bytes")
            }
        }
    }

    private static func varintBytes(_ value: Int64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 10)
        let count = bytes.withUnsafeMutableBytes { Varint.write(value, to: $0.baseAddress!) }
        return Array(bytes.prefix(count))
    }

    private static func readVarint(_ bytes: [UInt8], maxBytes: Int) -> Int64? {
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            return reader.readVarint(maxBytes: maxBytes)
        }
    }

    // MARK: CRC32C

    @Test func crc32cMatchesTheCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xe306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        let text = Array("123456789".utf8)
        #expect(CRC32C.checksum(Array(text[4...]), continuing: CRC32C.checksum(Array(text[..<4]))) == 0xe306_9283)
    }

    /// Both paths must agree wherever a buffer starts and however long it is: the hardware
    /// path runs three chains over blocks of 8,192 bytes, then of 256 bytes, then one chain 8
    /// bytes at a time, and finishes byte by byte, so the lengths straddle each of those steps.
    @Test func hardwareAndPortableCRCAgree() {
        var random = SplitMix64(seed: TestSeed.value)
        var buffer: [UInt8] = []
        for _ in 0..<(210_000 / 8) { withUnsafeBytes(of: random.next()) { buffer.append(contentsOf: $0) } }
        let threeShort = 3 * 256, threeLong = 3 * 8_192
        let edges = [threeShort, 2 * threeShort, threeLong, 2 * threeLong + threeShort, 8 * threeLong]
        let lengths = Array(0...130) + [255, 256, 257, 4095, 4096, 4097, 65_536 + 3, 110_000]
            + edges.flatMap { [$0 - 9, $0 - 1, $0, $0 + 1, $0 + 8, $0 + 15] }
        buffer.withUnsafeBytes { raw in
            for length in lengths {
                for alignment in 0..<8 {
                    let start = raw.baseAddress! + alignment
                    let seed = UInt32(truncatingIfNeeded: random.next())
                    let portable = ss_crc32c_portable(seed, start, length)
                    #expect(ss_crc32c(seed, start, length) == portable, "length \(length), alignment \(alignment); \(TestSeed.replay)")
                }
            }
        }
    }

    // MARK: Record limits

    @Test(arguments: [nil, 1_764_410_400_000] as [Int64?])
    func oversizedRecordIsRejectedAndNothingAppended(timestamp: Int64?) throws {
        var batch = RecordBatch()
        try batch.append(key: Array("k".utf8), value: Array("v".utf8))
        let before = (batch.count, batch.byteCount, batch.encoded(baseOffset: 0, appendTimeMilliseconds: 7))
        let value = [UInt8](repeating: 0x61, count: Limits.maxRecordBytes + 1)
        let error = #expect(throws: StreamStoreError.self) {
            try batch.append(key: nil, value: value, timestamp: timestamp)
        }
        #expect(error?.code == .recordTooLarge)
        #expect(batch.count == before.0 && batch.byteCount == before.1)
        #expect(batch.encoded(baseOffset: 0, appendTimeMilliseconds: 7) == before.2, "the failed append left no trace")
    }

    @Test(arguments: [nil, 1_764_410_400_000] as [Int64?])
    func tooManyHeadersAreRejectedAndNothingAppended(timestamp: Int64?) throws {
        var batch = RecordBatch()
        try batch.append(key: nil, value: Array("v".utf8))
        let before = (batch.count, batch.byteCount, batch.encoded(baseOffset: 0, appendTimeMilliseconds: 7))
        let headers = (0...Limits.maxHeadersPerRecord).map { RecordHeader(key: "h\($0)", value: nil) }
        let error = #expect(throws: StreamStoreError.self) {
            try batch.append(key: nil, value: [UInt8]?.none, headers: headers, timestamp: timestamp)
        }
        #expect(error?.code == .tooManyHeaders)
        #expect(batch.count == before.0 && batch.byteCount == before.1)
        #expect(batch.encoded(baseOffset: 0, appendTimeMilliseconds: 7) == before.2, "the failed append left no trace")

        try batch.append(key: nil, value: [UInt8]?.none, headers: Array(headers.prefix(Limits.maxHeadersPerRecord)))
        #expect(batch.count == 2)
    }
}

/// Bytes from hex strings, one per field, so a fixture reads like the format's field table.
private func hexBytes(_ fields: String...) -> [UInt8] {
    let digits = Array(fields.joined().utf8)
    precondition(digits.count % 2 == 0, "hex fixture has an odd number of digits")
    return stride(from: 0, to: digits.count, by: 2).map { index in
        UInt8(String(decoding: digits[index..<(index + 2)], as: UTF8.self), radix: 16)!
    }
}
