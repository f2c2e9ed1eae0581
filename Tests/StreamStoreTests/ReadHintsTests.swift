import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// A read that continues where the last one ended starts there, not at the offset index's
/// floor: a reader process's index copy lags the log by up to 4 MiB, and without this every
/// tailing read walked that far (append-to-tail p50 was 0.7 ms across processes).
@Suite struct ReadHintsTests {
    @Test func aTailingReaderReadsEachBatchOnceWhateverTheIndexKnows() async throws {
        let fixture = try StoreFixture()
        let fileSystem = CountingFileSystem()
        let store = try fixture.open(through: fileSystem)
        defer { try? store.close() }
        // An index interval past the segment's size: the index never has an entry, so without
        // hints each read would walk the segment from its start.
        let topic = try store.createTopic("t", config: TopicConfig(indexIntervalBytes: 64 << 20, flush: .never))
        let partition = try topic.partition(0)
        var next: Int64 = 0
        var logBytes = 0
        for index in 0..<2_000 {
            let receipt = try await topic.append([Record(value: "value-\(index)")], partition: 0)
            fileSystem.resetCounts()
            let batches = try partition.readBatches(from: next, maxBytes: 1)
            #expect(batches.map(\.header.baseOffset) == [receipt.baseOffset])
            logBytes = batches.first.map { Int($0.header.totalBytes) } ?? 0
            // One batch, and at most a read-ahead chunk: never the segment before it.
            #expect(fileSystem.readByteCount < 64 * 1024, "read \(fileSystem.readByteCount) bytes for batch \(index)")
            next = receipt.lastOffset + 1
        }
        #expect(logBytes > 0)
    }

    @Test func aReaderBehindTheOthersKeepsItsOwnPlace() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(indexIntervalBytes: 64 << 20, flush: .never))
        try await fixture.append(topic, count: 500, batchSize: 1)
        let partition = try topic.partition(0)
        // Two readers interleaved, far apart: each still reads its own next batch, in order.
        var slow: Int64 = 0
        var fast: Int64 = 400
        for _ in 0..<100 {
            let early = try partition.readBatches(from: slow, maxBytes: 1)
            let late = try partition.readBatches(from: fast, maxBytes: 1)
            #expect(early.first?.header.baseOffset == slow)
            #expect(late.first?.header.baseOffset == fast)
            slow += 1
            fast += 1
        }
        // Offsets before every hint and between them still read right.
        #expect(try partition.readBatches(from: 0, maxBytes: 1).first?.header.baseOffset == 0)
        #expect(try partition.readBatches(from: 250, maxBytes: 1).first?.header.baseOffset == 250)
    }

    /// Which batches a read returns depends on the log, the index and the budget, not on where
    /// earlier reads left hints: a hinted walk starts later than the index's floor entry, and
    /// once the first read of the file decided how much was taken (found by ModelTests under
    /// load: `read` gave 2 records where `readBatches` from the same offset gave 7).
    @Test func aReadTakesTheSameBatchesWhateverWasReadBefore() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 64 << 10, indexIntervalBytes: 256, flush: .never))
        // Batches of 1 to 5 records: boundaries that the index's entries do not line up with.
        var appended = 0
        for size in (0..<120).map({ 1 + $0 * 7 % 5 }) {
            _ = try await fixture.append(topic, count: size, batchSize: size, first: appended)
            appended += size
        }
        let partition = try topic.partition(0)
        let budgets = [1, 150, 300, 450, 700, 1_000, 2_000, 5_000]
        func answer(_ offset: Int64, _ budget: Int) throws -> [Range<Int64>] {
            try partition.readBatches(from: offset, maxBytes: budget).map { $0.baseOffset..<$0.nextOffset }
        }
        var expected: [Int64: [Int: [Range<Int64>]]] = [:]
        for offset in 0..<Int64(appended) {
            for budget in budgets {
                partition.readHints.withLock { $0.removeAll() }
                expected[offset, default: [:]][budget] = try answer(offset, budget)
            }
        }
        // Readers that leave hints everywhere, then every read again, hints and all.
        var random = SplitMix64(seed: 7)
        for offset in 0..<Int64(appended) {
            for budget in budgets {
                for _ in 0..<2 {
                    _ = try answer(Int64(random.upTo(appended - 1)), budgets[random.upTo(budgets.count - 1)])
                }
                let again = try answer(offset, budget)
                #expect(again == expected[offset]?[budget], "from \(offset) within \(budget) bytes")
                let records = try topic.read(partition: 0, from: offset, maxBytes: budget)
                #expect(records.map(\.offset) == Array(offset..<(again.last?.upperBound ?? offset)), "records from \(offset) within \(budget) bytes")
            }
        }
    }

    @Test func theBestHintIsTheLastBoundaryAtOrBeforeTheOffsetPastTheIndexFloor() {
        var hints = ReadHints()
        hints.remember(.init(segmentBaseOffset: 0, offset: 10, position: 1_000), replacing: -1)
        hints.remember(.init(segmentBaseOffset: 0, offset: 50, position: 5_000), replacing: -1)
        hints.remember(.init(segmentBaseOffset: 100, offset: 120, position: 900), replacing: -1)
        #expect(hints.position(segmentBaseOffset: 0, offset: 60, floor: 0, end: 10_000) == 5_000)
        #expect(hints.position(segmentBaseOffset: 0, offset: 49, floor: 0, end: 10_000) == 1_000)
        #expect(hints.position(segmentBaseOffset: 0, offset: 5, floor: 0, end: 10_000) == nil, "no boundary at or before offset 5")
        #expect(hints.position(segmentBaseOffset: 0, offset: 60, floor: 6_000, end: 10_000) == nil, "the index knows a later place")
        #expect(hints.position(segmentBaseOffset: 0, offset: 60, floor: 0, end: 4_000) == 1_000, "a hint at or past the end is not used")
        #expect(hints.position(segmentBaseOffset: 100, offset: 130, floor: 0, end: 10_000) == 900)
        // The reader that started at 5,000 moved on: its old place goes, the others stay.
        hints.remember(.init(segmentBaseOffset: 0, offset: 70, position: 7_000), replacing: 5_000)
        #expect(hints.position(segmentBaseOffset: 0, offset: 60, floor: 0, end: 10_000) == 1_000)
        #expect(hints.position(segmentBaseOffset: 0, offset: 80, floor: 0, end: 10_000) == 7_000)
        // At most `capacity` hints: the oldest goes.
        for index in 0..<ReadHints.capacity {
            hints.remember(.init(segmentBaseOffset: 200, offset: 200 + Int64(index), position: Int64(index + 1) * 100), replacing: -1)
        }
        #expect(hints.position(segmentBaseOffset: 0, offset: 80, floor: 0, end: 10_000) == nil)
    }
}
