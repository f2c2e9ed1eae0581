import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// The replay API: `AsyncSequence`s of records and batches, ranges by offset and time, reset
/// policies, and live tailing.
@Suite(.timeLimit(.minutes(5))) struct ReplayTests {
    private func collect(_ replay: RecordReplay) async throws -> [StoredRecord] {
        var result: [StoredRecord] = []
        for try await record in replay { result.append(record) }
        return result
    }

    @Test func replaysEveryPartitionInOffsetOrder() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 3, segmentBytes: 4096, flush: .never))
        for partition in 0..<3 {
            try await fixture.append(topic, count: 500, batchSize: 37, partition: partition, prefix: "p\(partition)-")
        }
        let records = try await collect(topic.replay(options: ReplayOptions(maxBytesPerRead: 2048)))
        #expect(records.count == 1500)
        for partition in 0..<3 {
            let mine = records.filter { $0.partition == partition }
            #expect(mine.map(\.offset) == Array(0..<500))
            #expect(values(mine) == (0..<500).map { "p\(partition)-\($0)" })
        }
        // Partitions take turns: the first reads do not drain one partition before the next.
        #expect(Set(records.prefix(200).map(\.partition)).count > 1)
    }

    @Test func replaysAnOffsetRangeAtRecordAndBatchLevel() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 1000, batchSize: 64)
        let options = ReplayOptions(from: .offset(130), until: .offset(777))
        let records = try await collect(topic.replay(partition: 0, options: options))
        #expect(records.map(\.offset) == Array(130..<777))

        // The first and last batches straddle the range; record visits skip what is outside it.
        var visited: [Int64] = []
        var batchCount = 0
        for try await batch in topic.replayBatches(options: options) {
            batchCount += 1
            try batch.forEachRecord { visited.append($0.offset) }
        }
        #expect(visited == Array(130..<777))
        #expect(batchCount == 11)
    }

    @Test func startsAtTheFirstRecordWhoseRunningMaximumTimestampReachesTheTime() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let base = fixture.clock.nowMilliseconds() - 100_000
        // Create timestamps out of order: 0, 50, 20, 60, 40, 70 (seconds after base).
        let seconds: [Int64] = [0, 50, 20, 60, 40, 70]
        for (index, second) in seconds.enumerated() {
            _ = try await topic.append([Record(value: "r\(index)", timestamp: base + second * 1000)], partition: 0)
        }
        // 40 s: the first record with timestamp >= 40 s is offset 1 (50 s); 40 s itself is offset 4.
        let from40 = try await collect(topic.replay(options: ReplayOptions(from: .timestamp(base + 40_000))))
        #expect(from40.map(\.offset) == [1, 2, 3, 4, 5])
        let from55 = try await collect(topic.replay(options: ReplayOptions(from: .timestamp(base + 55_000))))
        #expect(from55.map(\.offset) == [3, 4, 5])
        // Until 30 s: stops before the first record after 30 s (offset 1).
        let until30 = try await collect(topic.replay(options: ReplayOptions(until: .timestamp(base + 30_000))))
        #expect(until30.map(\.offset) == [0])
        let after = try await collect(topic.replay(options: ReplayOptions(from: .timestamp(base + 71_000))))
        #expect(after.isEmpty)
    }

    @Test func outOfRangeOffsetsFollowTheResetPolicy() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 10)
        let earliest = try await collect(topic.replay(options: ReplayOptions(from: .offset(50), resetPolicy: .earliest)))
        #expect(earliest.map(\.offset) == Array(0..<10))
        let latest = try await collect(topic.replay(options: ReplayOptions(from: .offset(50), resetPolicy: .latest)))
        #expect(latest.isEmpty)
        await expectStoreError(.offsetOutOfRange) {
            _ = try await collect(topic.replay(options: ReplayOptions(from: .offset(50), resetPolicy: .fail)))
        }
        do {
            _ = try await collect(topic.replay(options: ReplayOptions(from: .offset(-1), resetPolicy: .fail)))
            Issue.record("expected offsetOutOfRange")
        } catch {
            #expect((error as? StreamStoreError)?.code == .offsetOutOfRange)
        }
    }

    @Test func unknownPartitionIsATypedError() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        do {
            _ = try await collect(topic.replay(partition: 4))
            Issue.record("expected partitionOutOfRange")
        } catch {
            #expect((error as? StreamStoreError)?.code == .partitionOutOfRange)
        }
    }

    /// Records kept across reads stay intact although the reader reuses its buffers: a buffer
    /// still referenced is copied, never overwritten.
    @Test(arguments: [Compression.none, .zstd(level: 1)])
    func recordsKeptAcrossReadsStayIntact(compression: Compression) async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never, compression: compression))
        try await fixture.append(topic, count: 20_000, batchSize: 250)
        let records = try await collect(topic.replay(options: ReplayOptions(maxBytesPerRead: 16 * 1024)))
        #expect(values(records) == (0..<20_000).map { "value-\($0)" })
        #expect(records.map { $0.keyString ?? "" } == (0..<20_000).map { "key-\($0)" })
    }

    @Test func compressedBatchesDecodeThroughTheBatchReplay() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never, compression: .zstd(level: 3)))
        try await fixture.append(topic, count: 5_000, batchSize: 500)
        var count = 0
        for try await batch in topic.replayBatches(options: ReplayOptions(from: .offset(1234))) {
            try batch.forEachRecord { record in
                #expect(record.offset == Int64(1234 + count))
                #expect(String(decoding: record.value!, as: UTF8.self) == "value-\(1234 + count)")
                count += 1
            }
        }
        #expect(count == 5_000 - 1234)
    }

    @Test func followWakesOnAppendAndEndsOnCancellation() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        try await fixture.append(topic, count: 3, partition: 1)
        // The reader hands each record over as it gets it; the test waits for those.
        let (seen, delivery) = AsyncStream.makeStream(of: String.self)
        let reader = Task {
            defer { delivery.finish() }
            for try await record in topic.replay(options: ReplayOptions(follow: true)) {
                delivery.yield(record.valueString ?? "<null>")
            }
            return "ended"
        }
        var received = seen.makeAsyncIterator()
        var kept: [String] = []
        for _ in 0..<3 { kept.append(await received.next() ?? "<ended>") }
        #expect(kept == ["value-0", "value-1", "value-2"])
        try await fixture.append(topic, count: 2, partition: 0, prefix: "late-")
        var late: [String] = []
        for _ in 0..<2 { late.append(await received.next() ?? "<ended>") }
        #expect(late == ["late-0", "late-1"])
        reader.cancel()
        #expect(try await reader.value == "ended")
    }

    @Test func followUnderEveryAppendSeesOnlyDurableRecords() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let topic = try fixture.open(through: fileSystem).createTopic("events", config: TopicConfig(flush: .everyAppend))
        try await fixture.append(topic, count: 300, batchSize: 7)
        // Each record the follower gets, with whether the fsync of the held append had returned.
        let synced = Locked(true)
        let (seen, delivery) = AsyncStream.makeStream(of: (offset: Int64, synced: Bool).self)
        let reader = Task {
            defer { delivery.finish() }
            for try await record in topic.replay(options: ReplayOptions(until: .offset(310), follow: true)) {
                delivery.yield((record.offset, synced.withLock { $0 }))
            }
        }
        var received = seen.makeAsyncIterator()
        var first: [Int64] = []
        for _ in 0..<300 { first.append(await received.next()?.offset ?? -1) }
        #expect(first == Array(0..<300))

        // The next append is written, but its fsync is parked: not durable, so not to be seen.
        let sync = fileSystem.hold(.fdatasync, pathContaining: ".log")
        synced.withLock { $0 = false }
        let append = Task { try await fixture.append(topic, count: 10, batchSize: 10, first: 300) }
        await sync.waitUntilReached()
        #expect(try topic.logEndOffset(partition: 0) == 300, "a written batch whose fsync has not returned is not visible")
        #expect(try topic.read(partition: 0, from: 300).isEmpty)
        // The follower gets every chance to run while the fsync is parked.
        for _ in 0..<1_000 { await Task.yield() }
        synced.withLock { $0 = true }
        sync.release()
        _ = try await append.value
        var late: [(offset: Int64, synced: Bool)] = []
        for _ in 0..<10 { late.append(await received.next() ?? (-1, false)) }
        #expect(late.map(\.offset) == Array(300..<310))
        let early = late.filter { !$0.synced }.map(\.offset)
        #expect(early.isEmpty, "the follower got records before their fsync returned: \(early)")
        try await reader.value
    }

    @Test func closingTheStoreEndsAFollowWithATypedError() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let reader = Task { () async throws(StreamStoreError) -> Int in
            var count = 0
            var iterator = topic.replay(options: ReplayOptions(from: .end, follow: true)).makeAsyncIterator()
            while try await iterator.next() != nil { count += 1 }
            return count
        }
        // Closed while the follow waits inside the engine for an append.
        try await waitUntil { topic.partitions[0].tailingReaderCount == 1 }
        try fixture.store?.close()
        let outcome = await reader.result
        switch outcome {
        case .success: Issue.record("a follow on a closed store must fail, not end quietly")
        case .failure(let error): #expect((error as? StreamStoreError)?.code == .storeClosed)
        }
    }
}
