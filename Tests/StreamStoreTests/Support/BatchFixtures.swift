#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Small verbs for codec tests: build random batches, damage encoded bytes, decode them back.
enum BatchFixtures {
    /// A batch as built, the bytes it encoded to, and the records reading it back must give.
    struct Encoded {
        var bytes: [UInt8]
        var expected: [StoredRecord]
        var baseOffset: Int64
        var usesAppendTime: Bool
        var maxTimestamp: Int64
        var partitionLeaderEpoch: Int32
        var producerId: Int64
        var producerEpoch: Int16
        var baseSequence: Int32
    }

    /// A random batch of 1...`maxRecords` records: null and non-null keys and values of
    /// 0...2000 bytes (mostly short, so the test stays fast), 0...5 headers with some null
    /// values, append time or create time with timestamps on both sides of the first.
    static func randomBatch(_ random: inout SplitMix64, maxRecords: Int = 200) throws -> Encoded {
        var batch = RecordBatch(capacityBytes: random.upTo(4096))
        return try randomBatch(&random, maxRecords: maxRecords, reusing: &batch)
    }

    /// Like ``randomBatch(_:maxRecords:)``, built in `batch` after emptying it with
    /// `removeAll()`, so the reuse path (kept buffer, reset timestamps) is tested too.
    static func randomBatch(_ random: inout SplitMix64, maxRecords: Int = 200, reusing batch: inout RecordBatch) throws -> Encoded {
        batch.removeAll()
        let pool = randomPool(&random)
        let usesAppendTime = random.oneIn(2)
        let appendTime = Int64(random.upTo(2_000_000_000_000))
        let firstTimestamp = Int64(random.upTo(2_000_000_000_000))
        let baseOffset = Int64(random.upTo(1 << 40))
        (batch.producerId, batch.producerEpoch, batch.baseSequence) = (-1, -1, -1)
        if random.oneIn(3) {
            batch.producerId = Int64(random.upTo(1 << 40))
            batch.producerEpoch = Int16(random.upTo(Int(Int16.max)))
            batch.baseSequence = Int32(random.upTo(Int(Int32.max)))
        }
        var expected: [StoredRecord] = []
        var maxTimestamp = Int64.min
        for index in 0..<(1 + random.upTo(maxRecords - 1)) {
            let key = random.oneIn(4) ? nil : randomBytes(&random, from: pool, maxCount: 2000)
            let value = random.oneIn(8) ? nil : randomBytes(&random, from: pool, maxCount: 2000)
            let headers = (0..<random.upTo(5)).map { _ in
                RecordHeader(
                    key: randomHeaderKey(&random),
                    value: random.oneIn(4) ? nil : randomBytes(&random, from: pool, maxCount: 40))
            }
            // Later records may be up to 1000 s before or after the first: negative deltas too.
            let delta = index == 0 ? 0 : Int64(random.upTo(2_000_000)) - 1_000_000
            let timestamp = usesAppendTime ? nil : firstTimestamp + delta
            try batch.append(key: key, value: value, headers: headers, timestamp: timestamp)
            maxTimestamp = max(maxTimestamp, timestamp ?? appendTime)
            expected.append(
                StoredRecord(
                    offset: baseOffset + Int64(index), timestamp: timestamp ?? appendTime,
                    key: key.map { ArraySlice($0) }, value: value.map { ArraySlice($0) }, headers: headers))
        }
        let epoch = Int32(random.upTo(Int(Int32.max)))
        return Encoded(
            bytes: batch.encoded(baseOffset: baseOffset, appendTimeMilliseconds: appendTime, partitionLeaderEpoch: epoch),
            expected: expected, baseOffset: baseOffset, usesAppendTime: usesAppendTime, maxTimestamp: maxTimestamp,
            partitionLeaderEpoch: epoch, producerId: batch.producerId, producerEpoch: batch.producerEpoch,
            baseSequence: batch.baseSequence)
    }

    /// 4 KiB of random bytes; keys and values are slices of it, so making a batch costs little.
    static func randomPool(_ random: inout SplitMix64) -> [UInt8] {
        var pool: [UInt8] = []
        pool.reserveCapacity(4096)
        for _ in 0..<512 { withUnsafeBytes(of: random.next()) { pool.append(contentsOf: $0) } }
        return pool
    }

    /// Up to `maxCount` bytes: lengths are short most of the time and up to the maximum sometimes.
    static func randomBytes(_ random: inout SplitMix64, from pool: [UInt8], maxCount: Int) -> [UInt8] {
        let count = random.oneIn(8) ? random.upTo(maxCount) : random.upTo(min(maxCount, 32))
        let start = random.upTo(pool.count - count)
        return Array(pool[start..<(start + count)])
    }

    static func randomHeaderKey(_ random: inout SplitMix64) -> String {
        let names = ["", "message-id", "correlation-id", "event-type", "schema-version", "ключ", "x"]
        return names[random.upTo(names.count - 1)] + (random.oneIn(2) ? "" : String(random.next() % 1000))
    }

    /// `bytes` with the byte at `index` XORed with `mask`.
    static func flipByte(_ bytes: [UInt8], at index: Int, mask: UInt8 = 0xff) -> [UInt8] {
        var copy = bytes
        copy[index] ^= mask
        return copy
    }

    /// Sets the batch length to the buffer's size and recomputes the CRC: what a buggy (or
    /// malicious) writer would produce, which the checksum cannot catch.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        copy.withUnsafeMutableBytes { raw in
            BigEndian.store(Int32(raw.count - BatchHeader.lengthPrefixSize), raw.baseAddress!, BatchHeader.Field.batchLength)
            let covered = UnsafeRawBufferPointer(rebasing: raw[BatchHeader.Field.attributes...])
            BigEndian.store(CRC32C.checksum(covered), raw.baseAddress!, BatchHeader.Field.crc)
        }
        return copy
    }

    static func probe(_ bytes: [UInt8], at position: Int = 0, expectedBaseOffset: Int64? = nil) -> BatchProbe {
        bytes.withUnsafeBytes { BatchHeader.probe($0, at: position, expectedBaseOffset: expectedBaseOffset) }
    }

    /// The header of a batch that passes every check, or nil.
    static func validHeader(_ bytes: [UInt8], expectedBaseOffset: Int64? = nil) -> BatchHeader? {
        if case .valid(let header) = probe(bytes, expectedBaseOffset: expectedBaseOffset) { return header }
        return nil
    }

    /// Parses `bytes` as exactly one whole, uncompressed batch and decodes its records.
    static func readAll(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> (StoredBatch, [StoredRecord]) {
        let result = BatchParser.parse(bytes)
        #expect(result.corruption == nil, sourceLocation: sourceLocation)
        #expect(result.consumedBytes == bytes.count, sourceLocation: sourceLocation)
        let parsed = try #require(result.batches.first, sourceLocation: sourceLocation)
        #expect(result.batches.count == 1, sourceLocation: sourceLocation)
        let batch = try parsed.decompressed(with: ZstdDecompressor(), position: "test bytes")
        return (batch, try batch.storedRecords())
    }
}

extension BatchFixtures {
    // `==` on byte slices is generic and unspecialized in debug builds: comparing megabytes with
    // it takes seconds. These compare with memcmp; use `#expect(a == b)` after a mismatch for the diff.

    static func sameBytes(_ a: UnsafeRawBufferPointer?, _ b: ArraySlice<UInt8>?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.count == b.count && b.withUnsafeBytes { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
    }

    static func sameBytes(_ a: ArraySlice<UInt8>?, _ b: ArraySlice<UInt8>?) -> Bool {
        guard let a else { return b == nil }
        return a.withUnsafeBytes { sameBytes($0, b) }
    }

    static func sameRecords(_ a: [StoredRecord], _ b: [StoredRecord]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { a, b in
                a.offset == b.offset && a.timestamp == b.timestamp && a.headers == b.headers
                    && sameBytes(a.key, b.key) && sameBytes(a.value, b.value)
            }
    }

    /// True when `view` shows `record`.
    static func view(_ view: borrowing RecordView, shows record: StoredRecord) -> Bool {
        view.offset == record.offset && view.timestamp == record.timestamp && view.headers == record.headers
            && sameBytes(view.key, record.key) && sameBytes(view.value, record.value)
    }
}

extension BatchProbe {
    var isValid: Bool {
        if case .valid = self { return true }
        return false
    }
}
