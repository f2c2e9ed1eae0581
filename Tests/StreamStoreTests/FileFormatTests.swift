import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// The small binary files of a store, pinned byte by byte from docs/FORMAT.md rather than by a
/// round trip through the code that writes them: the checkpoint (section 7), the producer
/// snapshot (17), the group offsets log (14), the correlation filter (19) and the live files
/// (20). Each file the engine writes is read here field by field at the documented offsets, with
/// the documented magic, version, size and CRC32C; where the engine reads the file back, a file
/// built here by hand (`FormatBytes`, an encoder of the documented layout, with a bitwise CRC32C
/// of its own) must be understood as documented.
@Suite(.timeLimit(.minutes(5))) struct FileFormatTests {
    // MARK: Checkpoints (section 7)

    @Test func aCleanCloseWritesTheFortyFourByteCheckpoint() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 5, batchSize: 1)
        try fixture.store?.close()
        fixture.store = nil

        let bytes = try FormatBytes.read(fixture.partitionFolder() + "/checkpoints")
        let activeLogBytes = try fixture.fileSize(try #require(try fixture.segmentFiles().last))
        #expect(bytes.count == 44)
        #expect(Array(bytes[0..<4]) == [0x53, 0x53, 0x43, 0x50], "magic SSCP")
        #expect(FormatBytes.uint(bytes, 4, 2) == 1, "version")
        #expect(FormatBytes.int64(bytes, 8) == 0, "logStartOffset")
        #expect(FormatBytes.int64(bytes, 16) == 5, "recoveryPoint: the log end at a clean close")
        #expect(FormatBytes.int64(bytes, 24) == 5, "cleanLogEndOffset")
        #expect(FormatBytes.int64(bytes, 32) == Int64(activeLogBytes), "cleanActiveLogBytes")
        #expect(FormatBytes.uint(bytes, 40, 4) == UInt64(FormatBytes.crc32c(bytes[0..<40])), "CRC32C of bytes 0..39")
    }

    @Test func aCheckpointBuiltByHandIsReadAsDocumented() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 5, batchSize: 1)
        try fixture.store?.close()
        fixture.store = nil
        let path = fixture.partitionFolder() + "/checkpoints"

        // logStartOffset 3, recovery point 5, not a clean close: the log starts at 3.
        var checkpoint = FormatBytes()
        checkpoint.append(Array("SSCP".utf8))
        checkpoint.uint(1, 2)
        checkpoint.uint(0, 2)
        for value: Int64 in [3, 5, -1, -1] { checkpoint.int64(value) }
        checkpoint.uint(UInt64(FormatBytes.crc32c(checkpoint.bytes)), 4)
        #expect(checkpoint.bytes.count == 44)
        try Data(checkpoint.bytes).write(to: URL(fileURLWithPath: path))
        var reopened = try fixture.open().topic("events")
        #expect(try reopened.logStartOffset(partition: 0) == 3)
        #expect(values(try fixture.readAll(reopened)) == ["value-3", "value-4"])
        try fixture.store?.close()
        fixture.store = nil

        // The same with one CRC bit wrong: the file is ignored (recovery from the first segment).
        var damaged = checkpoint.bytes
        damaged[43] ^= 0x01
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        reopened = try fixture.open().topic("events")
        #expect(try reopened.logStartOffset(partition: 0) == 0, "a checkpoint whose CRC fails is treated as absent")
    }

    // MARK: Producer state (section 17)

    @Test func theProducerSnapshotHasTheDocumentedLayout() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        var batch = RecordBatch()
        batch.producerId = 7000
        batch.producerEpoch = 2
        batch.baseSequence = 0
        for index in 0..<3 { try batch.append(key: nil, value: Array("idempotent-\(index)".utf8)) }
        _ = try await topic.append(batch, partition: 0)
        try fixture.store?.close()
        fixture.store = nil

        let bytes = try FormatBytes.read(fixture.partitionFolder() + "/producers")
        #expect(bytes.count == 28 + 20 + 24, "a header, one entry of one batch")
        #expect(Array(bytes[0..<4]) == Array("SSPR".utf8), "magic")
        #expect(FormatBytes.uint(bytes, 4, 2) == 1, "version")
        #expect(FormatBytes.uint(bytes, 6, 2) == 0, "reserved")
        #expect(FormatBytes.uint(bytes, 8, 4) == UInt64(FormatBytes.crc32c(bytes[12...])), "CRC32C of bytes 12 to the end")
        #expect(FormatBytes.uint(bytes, 12, 4) == 0, "reserved")
        #expect(FormatBytes.int64(bytes, 16) == 3, "snapshotOffset: the log end")
        #expect(FormatBytes.uint(bytes, 24, 4) == 1, "producerCount")
        #expect(FormatBytes.int64(bytes, 28) == 7000, "producerId")
        #expect(FormatBytes.uint(bytes, 36, 2) == 2, "epoch")
        #expect(bytes[38] == 1 && bytes[39] == 0, "batchCount, reserved")
        #expect(FormatBytes.int64(bytes, 40) == fixture.clock.nowMilliseconds(), "lastAppendMilliseconds")
        #expect(FormatBytes.uint(bytes, 48, 4) == 0 && FormatBytes.uint(bytes, 52, 4) == 2, "first and last sequence")
        #expect(FormatBytes.int64(bytes, 56) == 0 && FormatBytes.int64(bytes, 64) == 2, "base and last offset")
    }

    @Test func aProducerSnapshotBuiltByHandIsReadAsDocumented() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        var batch = RecordBatch()
        batch.producerId = 7000
        batch.producerEpoch = 2
        batch.baseSequence = 0
        for index in 0..<3 { try batch.append(key: nil, value: Array("idempotent-\(index)".utf8)) }
        _ = try await topic.append(batch, partition: 0)
        try fixture.store?.close()
        fixture.store = nil

        // The same producer at epoch 5, which the log's headers never saw: only the file says so.
        var body = FormatBytes()
        body.uint(0, 4)
        body.int64(3)
        body.uint(1, 4)
        body.int64(7000)
        body.uint(5, 2)
        body.append([1, 0])
        body.int64(fixture.clock.nowMilliseconds())
        body.uint(0, 4)
        body.uint(2, 4)
        body.int64(0)
        body.int64(2)
        var file = FormatBytes()
        file.append(Array("SSPR".utf8))
        file.uint(1, 2)
        file.uint(0, 2)
        file.uint(UInt64(FormatBytes.crc32c(body.bytes)), 4)
        file.append(body.bytes)
        try Data(file.bytes).write(to: URL(fileURLWithPath: fixture.partitionFolder() + "/producers"))

        let reopened = try fixture.open().topic("events")
        var next = RecordBatch()
        next.producerId = 7000
        next.producerEpoch = 2
        next.baseSequence = 3
        try next.append(key: nil, value: Array("after".utf8))
        await expectStoreError(.producerFenced) { _ = try await reopened.append(next, partition: 0) }
        #expect(try reopened.logEndOffset(partition: 0) == 3)
    }

    // MARK: Group offsets (section 14)

    @Test func aCommitIsOneFrameAfterTheEightByteHeader() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 10)
        try await #require(fixture.store).group("billing").commit(topic: "events", offsets: [0: 7])
        try fixture.store?.close()
        fixture.store = nil

        let bytes = try FormatBytes.read(fixture.path + "/__groups/billing.offsets")
        #expect(Array(bytes[0..<8]) == [0x53, 0x53, 0x47, 0x4F, 0, 1, 0, 0], "magic SSGO, version 1, reserved 0")
        let payload = 1 + 8 + 2 + (2 + 6 + 4 + 8)
        #expect(bytes.count == 8 + 8 + payload, "the header and one frame")
        #expect(FormatBytes.uint(bytes, 8, 4) == UInt64(payload), "length")
        #expect(FormatBytes.uint(bytes, 12, 4) == UInt64(FormatBytes.crc32c(bytes[16...])), "CRC32C of the payload")
        #expect(bytes[16] == 1, "kind: commit")
        #expect(FormatBytes.int64(bytes, 17) == fixture.clock.nowMilliseconds(), "time")
        #expect(FormatBytes.uint(bytes, 25, 2) == 1, "count")
        #expect(FormatBytes.uint(bytes, 27, 2) == 6 && Array(bytes[29..<35]) == Array("events".utf8), "topic")
        #expect(FormatBytes.uint(bytes, 35, 4) == 0, "partition")
        #expect(FormatBytes.int64(bytes, 39) == 7, "next offset")
    }

    @Test func framesBuiltByHandAreReplayedAsDocumented() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        for partition in 0..<2 { try await fixture.append(topic, count: 10, partition: partition) }
        try fixture.store?.close()
        fixture.store = nil

        func frame(kind: UInt8, _ entries: [(String, Int32, Int64)]) -> [UInt8] {
            var payload = FormatBytes()
            payload.append([kind])
            payload.int64(1_764_410_400_000)
            payload.uint(UInt64(entries.count), 2)
            for (topic, partition, offset) in entries {
                payload.uint(UInt64(topic.utf8.count), 2)
                payload.append(Array(topic.utf8))
                payload.uint(UInt64(UInt32(bitPattern: partition)), 4)
                payload.int64(offset)
            }
            var framed = FormatBytes()
            framed.uint(UInt64(payload.bytes.count), 4)
            framed.uint(UInt64(FormatBytes.crc32c(payload.bytes)), 4)
            framed.append(payload.bytes)
            return framed.bytes
        }
        var file = FormatBytes()
        file.append(Array("SSGO".utf8))
        file.uint(1, 2)
        file.uint(0, 2)
        file.append(frame(kind: 1, [("events", 0, 2), ("events", 1, 3)]))
        // A snapshot replaces everything before it; a commit after it changes one partition.
        file.append(frame(kind: 2, [("events", 0, 4), ("events", 1, 9)]))
        file.append(frame(kind: 1, [("events", 0, 6)]))
        // A torn tail: a frame whose length runs past the file.
        file.append(Array(frame(kind: 1, [("events", 1, 1)]).prefix(12)))
        try FileManager.default.createDirectory(atPath: fixture.path + "/__groups", withIntermediateDirectories: true)
        try Data(file.bytes).write(to: URL(fileURLWithPath: fixture.path + "/__groups/billing.offsets"))

        let store = try fixture.open()
        #expect(try store.group("billing").committedOffsets(topic: "events") == [0: 6, 1: 9])
    }

    // MARK: Correlation filter (section 19)

    /// FORMAT.md's example: `c-1` in a one-block filter sets bits 23, 7, 9, 12, 15, 27, 20 and 27
    /// of words 0 to 7.
    @Test func aSealedSegmentsFilterHoldsTheDocumentedBits() async throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let topic = try store.createTopic("events", config: TopicConfig(segmentBytes: 4096, flush: .never))
        var traced = Record(value: "traced")
        traced.setHeader(.correlationID, "c-1")
        _ = try await topic.append([traced], partition: 0)
        let large = String(repeating: "x", count: 3_000)
        _ = try await topic.append([Record(value: large)], partition: 0)
        _ = try await topic.append([Record(value: large)], partition: 0)  // rolls: segment 0 holds offsets 0 and 1
        let logPath = fixture.partitionFolder() + "/00000000000000000000.log"
        let filterPath = fixture.partitionFolder() + "/00000000000000000000.cfilter"
        #expect(try store.trace(correlationID: "c-1").records.map(\.offset) == [0])
        try await waitUntil { FileManager.default.fileExists(atPath: filterPath) }
        try store.close()
        fixture.store = nil

        let bytes = try FormatBytes.read(filterPath)
        #expect(bytes.count == 48 + 32, "one block: 80 bytes")
        #expect(Array(bytes[0..<4]) == [0x53, 0x53, 0x43, 0x46], "magic SSCF")
        #expect(FormatBytes.uint(bytes, 4, 2) == 1 && bytes[6] == 1, "version 1, hash 1 (XXH64)")
        #expect(FormatBytes.int64(bytes, 8) == 0 && FormatBytes.int64(bytes, 16) == 2, "base and next offset")
        #expect(FormatBytes.int64(bytes, 24) == Int64(try fixture.fileSize(logPath)), "logBytes")
        #expect(FormatBytes.int64(bytes, 32) == 1 && FormatBytes.uint(bytes, 40, 4) == 1, "idCount, blockCount")
        let words = (0..<8).map { UInt32(FormatBytes.uint(bytes, 44 + 4 * $0, 4)) }
        #expect(words == [23, 7, 9, 12, 15, 27, 20, 27].map { UInt32(1) << $0 }, "\(words.map { String($0, radix: 16) })")
        #expect(FormatBytes.uint(bytes, 76, 4) == UInt64(FormatBytes.crc32c(bytes[0..<76])), "CRC32C of bytes 0..<76")
    }

    @Test func aFilterBuiltByHandIsTrusted() async throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let topic = try store.createTopic("events", config: TopicConfig(segmentBytes: 4096, flush: .never))
        var traced = Record(value: "traced")
        traced.setHeader(.correlationID, "c-1")
        _ = try await topic.append([traced], partition: 0)
        let large = String(repeating: "x", count: 3_000)
        _ = try await topic.append([Record(value: large)], partition: 0)
        _ = try await topic.append([Record(value: large)], partition: 0)
        let filterPath = fixture.partitionFolder() + "/00000000000000000000.cfilter"
        #expect(try store.trace(correlationID: "c-1").records.map(\.offset) == [0])
        try await waitUntil { FileManager.default.fileExists(atPath: filterPath) }
        try store.close()
        fixture.store = nil

        // A valid filter of segment 0 with no bit set: it says c-1 is not there, and a trace,
        // trusting it, does not scan the segment.
        var filter = FormatBytes()
        filter.append(Array("SSCF".utf8))
        filter.uint(1, 2)
        filter.append([1, 0])
        filter.int64(0)
        filter.int64(2)
        filter.int64(Int64(try fixture.fileSize(fixture.partitionFolder() + "/00000000000000000000.log")))
        filter.int64(0)
        filter.uint(1, 4)
        filter.append([UInt8](repeating: 0, count: 32))
        filter.uint(UInt64(FormatBytes.crc32c(filter.bytes)), 4)
        try Data(filter.bytes).write(to: URL(fileURLWithPath: filterPath))
        #expect(try fixture.open().trace(correlationID: "c-1").records.isEmpty, "the hand-built filter was not trusted")
    }

    // MARK: Live files (section 20)

    @Test func theLiveFilesHoldTheDocumentedWords() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 5, batchSize: 5)

        let live = try FormatBytes.read(fixture.path + "/live")
        #expect(live.count == 4096)
        #expect(Array(live[0..<8]) == Array("SSLIVE".utf8) + [0, 0], "magic")
        #expect(FormatBytes.native(live, 8) == 1, "version")
        #expect(FormatBytes.native(live, 16) == UInt64(getpid()), "writer pid")
        let generation = FormatBytes.native(live, 24)
        #expect(generation >= 1, "writer generation")
        #expect(UInt32(truncatingIfNeeded: FormatBytes.native(live, 64)) >= 1, "the signal word moved with the publishes")

        let published = try FormatBytes.read(fixture.partitionFolder() + "/published")
        #expect(published.count == 4096)
        #expect(Array(published[0..<8]) == Array("SSPUBEND".utf8), "magic")
        #expect(FormatBytes.native(published, 8) == 1, "version")
        // The whole slot (even sequence) with the larger count.
        let slots = [64, 192].map { start in (0..<9).map { FormatBytes.native(published, start + 8 * $0) } }
        #expect(slots.allSatisfy { $0[0] % 2 == 0 }, "no slot is being written")
        let slot = try #require(slots.max { $0[1] < $1[1] })
        #expect(slot[1] >= 1, "count")
        #expect(Int64(bitPattern: slot[2]) == 5, "offset: the visible end")
        #expect(Int64(bitPattern: slot[3]) == 0, "segmentBaseOffset")
        #expect(Int64(bitPattern: slot[4]) == Int64(try fixture.fileSize(try #require(try fixture.segmentFiles().last))), "position")
        #expect(Int64(bitPattern: slot[5]) == 0, "logStartOffset")
        #expect(slot[7] == generation, "writerGeneration: the live file's")
        #expect(Int64(bitPattern: slot[8]) == fixture.clock.nowMilliseconds(), "activeMaxTimestamp")

        try fixture.store?.close()
        fixture.store = nil
        #expect(FormatBytes.native(try FormatBytes.read(fixture.path + "/live"), 16) == 0, "pid 0 once the writer closed")
    }
}

/// An encoder and reader of the documented layouts, independent of the store's: big-endian
/// integers, and CRC32C computed bit by bit.
struct FormatBytes {
    var bytes: [UInt8] = []

    mutating func append(_ more: [UInt8]) { bytes += more }

    /// `value` as a big-endian integer of `size` bytes.
    mutating func uint(_ value: UInt64, _ size: Int) {
        for shift in stride(from: 8 * (size - 1), through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func int64(_ value: Int64) { uint(UInt64(bitPattern: value), 8) }

    static func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// The big-endian integer of `size` bytes at `offset`.
    static func uint(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
        bytes[offset..<(offset + size)].reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func int64(_ bytes: [UInt8], _ offset: Int) -> Int64 { Int64(bitPattern: uint(bytes, offset, 8)) }

    /// A 64-bit word in the machine's byte order (the live files never leave the machine).
    static func native(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
    }

    /// CRC32C (Castagnoli: reflected, polynomial 0x82F63B78), one bit at a time.
    static func crc32c(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }
}

@Suite struct FormatBytesTests {
    @Test func theBitwiseCRC32CMatchesTheCheckValue() {
        #expect(FormatBytes.crc32c(Array("123456789".utf8)) == 0xE306_9283)
    }
}
