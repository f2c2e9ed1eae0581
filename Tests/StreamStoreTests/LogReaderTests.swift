import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// The one reader of `.log` files: chunks, batches larger than a chunk, torn tails, damage under
/// each corruption policy, and offsets that do not follow on.
@Suite struct LogReaderTests {
    /// A `.log` file of whole batches in a temporary folder, and the verbs to damage it.
    final class LogFile {
        let path: String
        private(set) var bytes: [UInt8] = []
        /// Where each batch starts, and its size, in file order.
        private(set) var batches: [(position: Int64, byteCount: Int, baseOffset: Int64, records: Int)] = []

        init() {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("logreader-\(UUID().uuidString).log").path
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        /// Appends a batch of `records` records of `valueBytes` bytes each at `baseOffset` (the
        /// next offset when nil).
        func append(records: Int, valueBytes: Int = 20, baseOffset: Int64? = nil) throws {
            var batch = RecordBatch()
            let offset = baseOffset ?? batches.last.map { $0.baseOffset + Int64($0.records) } ?? 0
            for index in 0..<records {
                try batch.append(key: nil, value: LogReaderTests.value(of: offset + Int64(index), byteCount: valueBytes), timestamp: 1_000 + offset)
            }
            let encoded = batch.encoded(baseOffset: offset, appendTimeMilliseconds: 0)
            batches.append((Int64(bytes.count), encoded.count, offset, records))
            bytes += encoded
        }

        /// XORs the byte `index` bytes into batch `batch` with `mask`.
        func flipByte(ofBatch batch: Int, at index: Int, mask: UInt8 = 0x01) {
            bytes[Int(batches[batch].position) + index] ^= mask
        }

        /// Drops the last `count` bytes.
        func shrink(by count: Int) {
            bytes.removeLast(count)
        }

        /// Writes the bytes and opens the file for reading.
        func open() throws -> File {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return try File.open(path, create: false, readOnly: true, fileSystem: PosixFileSystem.shared)
        }
    }

    /// The value of the record at `offset`: its offset's low byte, repeated.
    static func value(of offset: Int64, byteCount: Int) -> [UInt8] {
        [UInt8](repeating: UInt8(truncatingIfNeeded: offset), count: byteCount)
    }

    /// Every batch the reader hands out, and why it stopped.
    private static func readAll(
        _ file: File, to end: Int64, chunkBytes: Int = LogReader.chunkBytes, offsets: LogReader.OffsetCheck = .dense(firstBaseOffset: 0),
        policy: LogReader.CorruptionPolicy = .stop
    ) throws -> (batches: [LogReader.Batch], records: [[StoredRecord]], reader: LogReader) {
        var reader = LogReader(file: file, to: end, chunkBytes: chunkBytes, offsets: offsets, policy: policy)
        var batches: [LogReader.Batch] = []
        var records: [[StoredRecord]] = []
        while let batch = try reader.next() {
            batches.append(batch)
            records.append(batch.isSound ? try reader.storedBatch(batch).storedRecords() : [])
        }
        return (batches, records, reader)
    }

    @Test func wholeBatchesAcrossChunkEdgesAreReadInOrder() throws {
        let log = LogFile()
        for index in 0..<12 { try log.append(records: 1 + index % 4, valueBytes: 10 + 7 * index) }
        let file = try log.open()
        for chunkBytes in [61, 100, 333, 1000, 1 << 20] {
            let (batches, records, reader) = try Self.readAll(file, to: Int64(log.bytes.count), chunkBytes: chunkBytes)
            #expect(reader.stop == .end, "chunk of \(chunkBytes) bytes")
            #expect(batches.map(\.position) == log.batches.map(\.position), "chunk of \(chunkBytes) bytes")
            #expect(batches.map(\.header.baseOffset) == log.batches.map(\.baseOffset))
            #expect(records.map(\.count) == log.batches.map(\.records))
            #expect(records.joined().map(\.offset) == Array(0..<Int64(records.joined().count)))
            #expect(batches.allSatisfy { $0.isSound })
        }
    }

    @Test func batchLargerThanTheChunkIsReadWhole() throws {
        let log = LogFile()
        try log.append(records: 2)
        try log.append(records: 40, valueBytes: 500)
        try log.append(records: 1)
        let file = try log.open()
        #expect(log.batches[1].byteCount > 20_000)
        let (batches, records, reader) = try Self.readAll(file, to: Int64(log.bytes.count), chunkBytes: 4096)
        #expect(reader.stop == .end)
        #expect(batches.map(\.header.totalBytes) == log.batches.map(\.byteCount))
        #expect(records[1].count == 40)
        #expect(records[1].allSatisfy { record in record.value.map(Array.init) == Self.value(of: record.offset, byteCount: 500) })
    }

    @Test func batchesHandedOutKeepTheirBytesWhileTheReaderReadsOn() throws {
        let log = LogFile()
        for _ in 0..<6 { try log.append(records: 3, valueBytes: 90) }
        let file = try log.open()
        var reader = LogReader(file: file, to: Int64(log.bytes.count), chunkBytes: 400)
        var kept: [StoredBatch] = []
        while let batch = try reader.next() { kept.append(reader.storedBatch(batch)) }
        #expect(reader.stop == .end)
        let records = try kept.flatMap { try $0.storedRecords() }
        #expect(records.map(\.offset) == Array(0..<18))
        #expect(records.allSatisfy { record in record.value.map(Array.init) == Self.value(of: record.offset, byteCount: 90) })
    }

    @Test func tornTailStopsAsTornNotCorrupt() throws {
        let log = LogFile()
        for _ in 0..<3 { try log.append(records: 5) }
        log.shrink(by: 3)
        let file = try log.open()
        let last = log.batches[2]
        for policy in [LogReader.CorruptionPolicy.stop, .report, .skip] {
            let (batches, _, reader) = try Self.readAll(file, to: Int64(log.bytes.count), chunkBytes: 100, policy: policy)
            #expect(batches.count == 2)
            #expect(reader.stop == .torn(position: last.position, neededBytes: last.byteCount, availableBytes: Int64(last.byteCount - 3)))
        }
    }

    @Test func tailTooShortForALengthIsTorn() throws {
        let log = LogFile()
        try log.append(records: 1)
        try log.append(records: 1)
        log.shrink(by: log.batches[1].byteCount - 5)
        let file = try log.open()
        let (batches, _, reader) = try Self.readAll(file, to: Int64(log.bytes.count))
        #expect(batches.count == 1)
        #expect(reader.stop == .torn(position: log.batches[1].position, neededBytes: BatchHeader.lengthPrefixSize, availableBytes: 5))
        #expect(reader.stop?.sentence == "torn batch at byte \(log.batches[1].position): 5 of its 12 bytes are present")
    }

    @Test func fileShorterThanTheEndPositionIsTorn() throws {
        let log = LogFile()
        try log.append(records: 2)
        try log.append(records: 2)
        let file = try log.open()
        let (batches, _, reader) = try Self.readAll(file, to: Int64(log.bytes.count + 1000))
        #expect(batches.count == 2)
        #expect(reader.stop == .torn(position: Int64(log.bytes.count), neededBytes: BatchHeader.lengthPrefixSize, availableBytes: 0))
    }

    /// A flipped bit in a record: the length and magic still frame the batch, so `.report` and
    /// `.skip` go on after it.
    @Test func flippedByteUnderEachPolicy() throws {
        let log = LogFile()
        for _ in 0..<4 { try log.append(records: 3) }
        log.flipByte(ofBatch: 2, at: BatchHeader.size + 4)
        let file = try log.open()
        let end = Int64(log.bytes.count)
        let damaged = log.batches[2].position

        let stopped = try Self.readAll(file, to: end, chunkBytes: 200, policy: .stop)
        #expect(stopped.batches.map(\.header.baseOffset) == [0, 3])
        guard case .corrupt(let position, let reason) = stopped.reader.stop else {
            Issue.record("expected a corrupt stop, got \(String(describing: stopped.reader.stop))")
            return
        }
        #expect(position == damaged && reason.contains("CRC32C"))
        #expect(stopped.reader.stop?.sentence.hasPrefix("invalid batch at byte \(damaged): CRC32C") == true)

        let reported = try Self.readAll(file, to: end, chunkBytes: 200, policy: .report)
        #expect(reported.batches.map(\.header.baseOffset) == [0, 3, 6, 9])
        #expect(reported.batches.map(\.isSound) == [true, true, false, true])
        #expect(reported.batches[2].damage?.contains("CRC32C") == true)
        #expect(reported.batches[2].computedCRC != reported.batches[2].header.crc)
        #expect(reported.reader.stop == .end)

        let skipped = try Self.readAll(file, to: end, chunkBytes: 200, policy: .skip)
        #expect(skipped.batches.map(\.header.baseOffset) == [0, 3, 9])
        #expect(skipped.reader.skipped.map(\.position) == [damaged])
        #expect(skipped.reader.stop == .end)
    }

    /// A flipped length byte: nothing frames the batch, so every policy ends the walk there.
    @Test func unframeableBatchEndsTheWalkUnderEveryPolicy() throws {
        let log = LogFile()
        for _ in 0..<3 { try log.append(records: 2) }
        log.flipByte(ofBatch: 1, at: BatchHeader.Field.batchLength, mask: 0x40)
        let file = try log.open()
        for policy in [LogReader.CorruptionPolicy.stop, .report, .skip] {
            let (batches, _, reader) = try Self.readAll(file, to: Int64(log.bytes.count), policy: policy)
            #expect(batches.count == 1)
            guard case .corrupt(let position, let reason) = reader.stop else {
                Issue.record("expected a corrupt stop under \(policy), got \(String(describing: reader.stop))")
                continue
            }
            #expect(position == log.batches[1].position && reason.contains("batch length"))
        }
    }

    @Test func nonDenseOffsetFailsOnlyWhenOffsetsAreChecked() throws {
        let log = LogFile()
        try log.append(records: 2)
        try log.append(records: 2, baseOffset: 5)
        try log.append(records: 2)
        let file = try log.open()
        let end = Int64(log.bytes.count)

        let stopped = try Self.readAll(file, to: end, policy: .stop)
        #expect(stopped.batches.count == 1)
        #expect(stopped.reader.stop == .corrupt(position: log.batches[1].position, reason: "base offset 5, expected 2"))

        let reported = try Self.readAll(file, to: end, policy: .report)
        #expect(reported.batches.map(\.expectedBaseOffset) == [nil, 2, nil])
        #expect(reported.batches[1].damage == nil)
        #expect(reported.reader.stop == .end)

        let unchecked = try Self.readAll(file, to: end, offsets: .unchecked)
        #expect(unchecked.batches.map(\.header.baseOffset) == [0, 5, 7])
        #expect(unchecked.reader.stop == .end)

        let wrongStart = try Self.readAll(file, to: end, offsets: .dense(firstBaseOffset: 1))
        #expect(wrongStart.batches.isEmpty)
        #expect(wrongStart.reader.stop == .corrupt(position: 0, reason: "base offset 0, expected 1"))
    }

    @Test func readingFromAPositionEndsAtTheEndPosition() throws {
        let log = LogFile()
        for _ in 0..<4 { try log.append(records: 1) }
        let file = try log.open()
        var reader = LogReader(file: file, from: log.batches[1].position, to: log.batches[3].position)
        var offsets: [Int64] = []
        #expect(try reader.forEach { offsets.append($0.header.baseOffset) } == .end)
        #expect(offsets == [1, 2])
        #expect(reader.position == log.batches[3].position)
    }

    @Test func stoppingPartWayNamesTheEndOfTheLastBatch() throws {
        let log = LogFile()
        for _ in 0..<3 { try log.append(records: 1) }
        let file = try log.open()
        var reader = LogReader(file: file, to: Int64(log.bytes.count))
        _ = try reader.next()
        reader.stopHere()
        #expect(try reader.next() == nil)
        #expect(reader.stop == .stopped(position: log.batches[1].position))
    }

    @Test func readerBuffersAreFilledInPlace() throws {
        let log = LogFile()
        for _ in 0..<3 { try log.append(records: 4) }
        let file = try log.open()
        let buffers = ReadBuffers()
        for _ in 0..<3 {
            var reader = LogReader(file: file, to: Int64(log.bytes.count), buffers: buffers)
            var count = 0
            while let batch = try reader.next() {
                count += try reader.storedBatch(batch).storedRecords().count
            }
            buffers.endRead()
            #expect(count == 12)
        }
        #expect(buffers.copiedFills == 0)
    }
}
