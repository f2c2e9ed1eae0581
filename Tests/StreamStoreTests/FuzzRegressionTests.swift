import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Every input with which a fuzz target in `Fuzz/` crashed the engine or broke one of its
/// invariants, fed through the same code path the target found it on. Each test says which
/// target found what; the inputs are in `Vectors/fuzz/` or built here from real batches.
@Suite(.timeLimit(.minutes(5))) struct FuzzRegressionTests {
    private static let longAgo: Int64 = 1_764_000_000_000

    // MARK: FuzzBatchDecoder

    /// A checksummed batch that claims 1,364,283,729 records in 20 bytes of records: reading it
    /// reserved room for all of them (130 GB) and the allocation aborted the process.
    @Test func recordCountBeyondTheBatchBytesIsCorruptNotAnAllocation() throws {
        let bytes = try fuzzVector("record-count-beyond-bytes.bin")
        let batch = try #require(BatchParser.parse(bytes).batches.first, "its CRC is valid, so it parses")
        #expect(batch.recordCount == 0x5151_5151)
        #expect(batch.reservableRecordCount <= (bytes.count - BatchHeader.size) / RecordDecoder.minimumRecordBytes)
        expectCorrupt { _ = try batch.storedRecords() }
    }

    /// The same batch as the whole of a log: recovery keeps it (length, CRC and counts are valid)
    /// and a record read reports it.
    @Test func recordCountBeyondTheBatchBytesInALogReadsAsCorrupt() async throws {
        let fixture = try StoreFixture()
        _ = try fixture.topic()
        fixture.crash()
        try fuzzVector("record-count-beyond-bytes.bin").write(toFile: try fixture.segmentFiles().last!)
        let topic = try fixture.open().topic("events")
        #expect(try topic.logEndOffset(partition: 0) == 0x5151_5151 + 1)
        expectCorrupt { _ = try topic.read(partition: 0, from: 0) }
    }

    // MARK: FuzzSegmentRecovery

    /// After a reopen, the active segment's age is measured from its first batch's timestamp; a
    /// create time of Int64.min (accepted: it is not in the future) made the next append's age
    /// check overflow and trap.
    @Test func appendingToASegmentThatBeganAtInt64MinDoesNotTrap() async throws {
        let fixture = try StoreFixture()
        var topic = try fixture.topic()
        _ = try await topic.append([Record(value: "first", timestamp: Int64.min)], partition: 0)
        topic = try fixture.reopen().topic("events")
        #expect(try await topic.append([Record(value: "after a clean reopen")], partition: 0).baseOffset == 1)
        topic = try fixture.crashAndReopen().topic("events")
        #expect(try await topic.append([Record(value: "after a crash")], partition: 0).baseOffset == 2)
        #expect(values(try fixture.readAll(topic)) == ["first", "after a clean reopen", "after a crash"])
        try fixture.expectConsistent()
    }

    /// A zstd batch whose frame is damaged but whose CRC is valid (recovery cannot tell) made every
    /// read that reached it fail, the good batches before it included. Those come first now; the
    /// read that starts at the damaged batch reports it.
    @Test func goodBatchesBeforeADamagedZstdFrameAreReadFirst() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never, compression: .zstd(level: 3)))
        try await fixture.append(topic, count: 30, batchSize: 10, prefix: "compressible-value-compressible-value-")
        fixture.crash()
        let log = try fixture.segmentFiles().last!
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: log)))
        let third = try batchPositions(bytes)[2]
        #expect(BatchHeader(loadingFrom: bytes.withUnsafeBytes { $0.baseAddress! + third }).compressionCodec == 4)
        for index in stride(from: third + BatchHeader.size + 8, to: bytes.count, by: 3) { bytes[index] ^= 0x5A }
        rechecksum(&bytes, batchAt: third)
        try bytes.write(toFile: log)

        let reopened = try fixture.open().topic("events")
        #expect(try reopened.logEndOffset(partition: 0) == 30, "recovery keeps a batch whose CRC is valid")
        #expect(try reopened.readBatches(partition: 0, from: 0).map(\.baseOffset) == [0, 10])
        #expect(try reopened.read(partition: 0, from: 0).map(\.offset) == Array(0..<20))
        expectCorrupt { _ = try reopened.readBatches(partition: 0, from: 20) }
        expectCorrupt { _ = try reopened.read(partition: 0, from: 25) }
    }

    /// A checksummed batch in a codec StreamStore does not read (gzip, from a Kafka segment) made
    /// reads of later offsets fail whenever the reader's scan started at or before it.
    @Test func aBatchInAnUnreadCodecDoesNotHideTheBatchesAfterIt() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 6, batchSize: 2)
        try fixture.store?.close()
        fixture.store = nil
        let log = try fixture.segmentFiles().last!
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: log)))
        let second = try batchPositions(bytes)[1]
        bytes[second + BatchHeader.Field.attributes + 1] |= 1  // codec 1: gzip
        rechecksum(&bytes, batchAt: second)
        try bytes.write(toFile: log)

        let reopened = try fixture.open().topic("events")
        #expect(values(try reopened.read(partition: 0, from: 4)) == ["value-4", "value-5"])
        #expect(values(try reopened.read(partition: 0, from: 0)) == ["value-0", "value-1"], "the good batch first")
        expectCorrupt { _ = try reopened.read(partition: 0, from: 2) }
    }

    // MARK: FuzzIndexValidation

    /// With the active segment's `.timeindex` gone, a clean open trusted an empty time index and
    /// restored the running maximum timestamp from the batches after the last offset-index entry
    /// only: a timestamp lookup then skipped the record it should have found.
    @Test func aMissingActiveTimeIndexIsRebuiltOnCleanOpen() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(indexIntervalBytes: 1, flush: .never))
        // Create times that go back: the newest record is not in the last batch.
        for (index, delta) in [1000, 5000, 2000].enumerated() {
            _ = try await topic.append([Record(value: "r\(index)", timestamp: Self.longAgo + Int64(delta))], partition: 0)
        }
        try fixture.store?.close()
        fixture.store = nil
        try FileManager.default.removeItem(atPath: try fixture.segmentFiles(suffix: ".timeindex").last!)

        let reopened = try fixture.open().topic("events")
        #expect(try reopened.offset(partition: 0, for: .timestamp(Self.longAgo + 4000)) == 1)
        try fixture.expectConsistent()
    }

    /// An offset index that passes validation (entries increase, positions lie inside the log)
    /// but sends a lookup past the batch holding the wanted offset: readers started there and
    /// silently skipped the records in between.
    @Test func anOffsetIndexThatPointsPastTheWantedOffsetIsNotFollowed() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(indexIntervalBytes: 1, flush: .never))
        try await fixture.append(topic, count: 8, batchSize: 2)
        try fixture.store?.close()
        fixture.store = nil
        // Entries (2, p1), (4, p2), (6, p3): the batch at 4 is moved to claim offset 3.
        let indexPath = try fixture.segmentFiles(suffix: ".index").last!
        var index = try [UInt8](Data(contentsOf: URL(fileURLWithPath: indexPath)))
        #expect(index.count == 24 && index[11] == 4)
        index[11] = 3
        try index.write(toFile: indexPath)

        let reopened = try fixture.open().topic("events")
        #expect(try reopened.readBatches(partition: 0, from: 3).first?.baseOffset == 2)
        #expect(try reopened.read(partition: 0, from: 3).first?.offset == 3)
        #expect(values(try fixture.readAll(reopened, maxBytes: 1)) == (0..<8).map { "value-\($0)" })
    }

    // MARK: Helpers

    private func fuzzVector(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Vectors/fuzz"), "Vectors/fuzz/\(name)")
        return try [UInt8](Data(contentsOf: url))
    }

    /// Byte positions of the batches of a log, by their length fields.
    private func batchPositions(_ log: [UInt8]) throws -> [Int] {
        var positions: [Int] = []
        var position = 0
        while position < log.count {
            positions.append(position)
            let length = log.withUnsafeBytes { BigEndian.load(Int32.self, $0.baseAddress! + position, BatchHeader.Field.batchLength) }
            position += Int(length) + BatchHeader.lengthPrefixSize
        }
        return positions
    }

    /// Recomputes the CRC32C of the batch at `position`, as a writer that meant these bytes would.
    private func rechecksum(_ log: inout [UInt8], batchAt position: Int) {
        log.withUnsafeMutableBytes { raw in
            let start = raw.baseAddress! + position
            let total = Int(BigEndian.load(Int32.self, start, BatchHeader.Field.batchLength)) + BatchHeader.lengthPrefixSize
            let covered = UnsafeRawBufferPointer(start: start + BatchHeader.Field.attributes, count: total - BatchHeader.Field.attributes)
            BigEndian.store(CRC32C.checksum(covered), start, BatchHeader.Field.crc)
        }
    }

    private func expectCorrupt(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a .corruptBatch error", sourceLocation: sourceLocation)
        } catch let error as StreamStoreError {
            #expect(error.code == .corruptBatch, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a StreamStoreError, got \(error)", sourceLocation: sourceLocation)
        }
    }
}

extension [UInt8] {
    fileprivate func write(toFile path: String) throws {
        try Data(self).write(to: URL(fileURLWithPath: path))
    }
}
