import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Recovery after an unclean shutdown: the log is cut at the first byte that is not a whole,
/// valid batch, and everything before it stays readable.
@Suite(.timeLimit(.minutes(5))) struct RecoveryTests {
    /// Appends 100 records in batches of 10 and crashes; returns the fixture and the active log.
    private func crashedStore(config: TopicConfig = TopicConfig(flush: .never)) async throws -> (StoreFixture, String) {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: config)
        try await fixture.append(topic, count: 100, batchSize: 10)
        fixture.crash()
        return (fixture, try fixture.segmentFiles().last!)
    }

    @Test func truncatedTrailingBatchIsDroppedOnRecovery() async throws {
        let (fixture, log) = try await crashedStore()
        try fixture.truncate(log, byteCount: 5)
        let store = try fixture.open()
        #expect(!store.openedCleanly)
        #expect(store.recoveries.count == 1)
        #expect(store.recoveries.first?.logEndOffset == 90)
        #expect(store.recoveries.first?.truncatedBytes ?? 0 > 0)
        let topic = try store.topic("events")
        #expect(values(try fixture.readAll(topic)) == (0..<90).map { "value-\($0)" })
        // Appends continue at the new end.
        #expect(try await fixture.append(topic, count: 1, first: 90).first?.baseOffset == 90)
        try fixture.expectConsistent()
    }

    @Test func zeroedTailIsDroppedOnRecovery() async throws {
        let (fixture, log) = try await crashedStore()
        let size = try fixture.fileSize(log)
        try fixture.appendBytes([UInt8](repeating: 0, count: 4096), to: log)
        let store = try fixture.open()
        #expect(try fixture.fileSize(log) == size)
        #expect(values(try fixture.readAll(try store.topic("events"))) == (0..<100).map { "value-\($0)" })
        try fixture.expectConsistent()
    }

    @Test func flippedBitInTheLastBatchCutsTheLogThere() async throws {
        let (fixture, log) = try await crashedStore()
        let size = try fixture.fileSize(log)
        try fixture.flipByte(at: size - 3, in: log)
        let store = try fixture.open()
        #expect(store.recoveries.first?.reason?.contains("CRC") == true)
        #expect(values(try fixture.readAll(try store.topic("events"))) == (0..<90).map { "value-\($0)" })
        try fixture.expectConsistent()
    }

    @Test func flippedBitInTheMiddleDropsWhatFollowsAndSaysSo() async throws {
        let (fixture, log) = try await crashedStore()
        let size = try fixture.fileSize(log)
        try fixture.flipByte(at: size / 2, in: log)
        let store = try fixture.open()
        let recovery = try #require(store.recoveries.first)
        #expect(recovery.truncatedBytes > 0)
        #expect(recovery.logEndOffset < 100)
        let records = try fixture.readAll(try store.topic("events"))
        #expect(values(records) == (0..<Int(recovery.logEndOffset)).map { "value-\($0)" })
    }

    @Test func garbageAfterTheLastBatchNeverReachesAReader() async throws {
        let (fixture, log) = try await crashedStore()
        var random = SystemRandomNumberGenerator()
        try fixture.appendBytes((0..<777).map { _ in UInt8.random(in: 0...255, using: &random) }, to: log)
        let store = try fixture.open()
        #expect(values(try fixture.readAll(try store.topic("events"))) == (0..<100).map { "value-\($0)" })
    }

    @Test func cutAtEveryByteOfTheLastBatchRecoversTheBatchesBeforeIt() async throws {
        let (fixture, log) = try await crashedStore()
        let original = try Data(contentsOf: URL(fileURLWithPath: log))
        let lastBatchStart = try {
            let store = try fixture.open()
            defer { fixture.crash() }
            return try store.topic("events").readBatches(partition: 0, from: 90).first!.byteCount
        }()
        let start = original.count - lastBatchStart
        for cut in stride(from: start, to: original.count, by: 7) {
            try original.prefix(cut).write(to: URL(fileURLWithPath: log))
            let store = try fixture.open()
            #expect(try store.topic("events").logEndOffset(partition: 0) == 90, "cut at \(cut)")
            fixture.crash()
        }
    }

    @Test func corruptIndexIsRebuiltFromTheLog() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 8192, indexIntervalBytes: 256, flush: .never))
        try await fixture.append(topic, count: 1_000, batchSize: 10)
        try fixture.store?.close()
        fixture.store = nil
        let indexes = try fixture.segmentFiles(suffix: ".index")
        let sealed = indexes[0]
        let before = try Data(contentsOf: URL(fileURLWithPath: sealed))
        #expect(before.count > 16)
        // Out of order entries: swap the first two.
        var damaged = before
        damaged.replaceSubrange(0..<16, with: before[8..<16] + before[0..<8])
        try damaged.write(to: URL(fileURLWithPath: sealed))
        let reopened = try fixture.open().topic("events")
        #expect(values(try fixture.readAll(reopened)) == (0..<1_000).map { "value-\($0)" })
        #expect(try Data(contentsOf: URL(fileURLWithPath: sealed)) == before, "the rebuilt index equals the writer's")
        try fixture.expectConsistent()
    }

    @Test func missingAndTruncatedIndexesAreRebuilt() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 8192, indexIntervalBytes: 256, flush: .never))
        try await fixture.append(topic, count: 1_000, batchSize: 10)
        try fixture.store?.close()
        fixture.store = nil
        let offsetIndexes = try fixture.segmentFiles(suffix: ".index")
        let timeIndexes = try fixture.segmentFiles(suffix: ".timeindex")
        let expected = try offsetIndexes.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        try FileManager.default.removeItem(atPath: offsetIndexes[0])
        try fixture.truncate(offsetIndexes[1], byteCount: 3)
        try fixture.truncate(timeIndexes[2], toSize: 0)
        try fixture.truncate(offsetIndexes.last!, byteCount: 3)
        let reopened = try fixture.open().topic("events")
        #expect(values(try fixture.readAll(reopened)) == (0..<1_000).map { "value-\($0)" })
        let rebuilt = try offsetIndexes.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        #expect(Array(rebuilt.dropLast()) == Array(expected.dropLast()))
        // The active segment's index is preallocated again for appends: its entries come first.
        #expect(rebuilt.last!.prefix(expected.last!.count) == expected.last!)
        #expect(try reopened.offset(partition: 0, for: .timestamp(0)) == 0)
        try fixture.expectConsistent()
    }

    @Test func indexEntryPointingPastTheLogIsDistrusted() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 8192, indexIntervalBytes: 256, flush: .never))
        try await fixture.append(topic, count: 1_000, batchSize: 10)
        try fixture.store?.close()
        fixture.store = nil
        let sealed = try fixture.segmentFiles(suffix: ".index")[0]
        try fixture.appendBytes([0x00, 0x00, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF], to: sealed)
        let reopened = try fixture.open().topic("events")
        #expect(values(try fixture.readAll(reopened)) == (0..<1_000).map { "value-\($0)" })
    }

    @Test func crashAfterRollsRecoversEverySegment() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, indexIntervalBytes: 256, flush: .never))
        try await fixture.append(topic, count: 2_000, batchSize: 10)
        let segmentCount = try fixture.segmentFiles().count
        let store = try fixture.crashAndReopen()
        #expect(!store.openedCleanly)
        #expect(try fixture.segmentFiles().count == segmentCount)
        #expect(values(try fixture.readAll(try store.topic("events"))) == (0..<2_000).map { "value-\($0)" })
        try fixture.expectConsistent()
    }

    @Test func corruptCheckpointFallsBackToAFullScan() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never))
        try await fixture.append(topic, count: 500, batchSize: 10)
        try fixture.store?.close()
        fixture.store = nil
        try fixture.flipByte(at: 10, in: fixture.partitionFolder() + "/checkpoints")
        let store = try fixture.open()
        #expect(values(try fixture.readAll(try store.topic("events"))) == (0..<500).map { "value-\($0)" })
        #expect(store.recoveries.count == 1)
    }

    @Test func checkpointRoundTripsAndRejectsDamage() {
        let checkpoint = Checkpoint(logStartOffset: 5, recoveryPoint: 100, cleanLogEndOffset: 120, cleanActiveLogBytes: 4096)
        let bytes = checkpoint.encoded()
        #expect(bytes.count == Checkpoint.byteCount)
        #expect(Checkpoint.decode(bytes) == checkpoint)
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x01
            #expect(Checkpoint.decode(damaged) == nil, "byte \(index)")
        }
        #expect(Checkpoint.decode(Array(bytes.dropLast())) == nil)
    }
}
