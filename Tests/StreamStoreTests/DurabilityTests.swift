import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Flush policies, group commit and what a failed write or fsync does.
@Suite(.timeLimit(.minutes(5))) struct DurabilityTests {
    private func open(_ fixture: StoreFixture, fileSystem: CountingFileSystem) throws -> Store {
        var options = Store.Options(clock: fixture.clock)
        options.fileSystem = fileSystem
        let store = try Store.open(at: fixture.path, options: options)
        fixture.store = store
        return store
    }

    @Test func aLoneProducerPaysOneFsyncPerAppend() async throws {
        let fixture = try StoreFixture()
        let fileSystem = CountingFileSystem()
        let topic = try open(fixture, fileSystem: fileSystem).createTopic("events", config: TopicConfig(flush: .everyAppend))
        fileSystem.resetCounts()
        try await fixture.append(topic, count: 50, batchSize: 1)
        #expect(fileSystem.dataSyncCount == 50)
    }

    @Test func neverFlushAppendsDoNotFsync() async throws {
        let fixture = try StoreFixture()
        let fileSystem = CountingFileSystem()
        let topic = try open(fixture, fileSystem: fileSystem).createTopic("events", config: TopicConfig(flush: .never))
        fileSystem.resetCounts()
        try await fixture.append(topic, count: 50, batchSize: 1)
        #expect(fileSystem.dataSyncCount == 0)
    }

    @Test func concurrentProducersShareFsyncs() async throws {
        let fixture = try StoreFixture()
        let fileSystem = CountingFileSystem()
        let topic = try open(fixture, fileSystem: fileSystem).createTopic("events", config: TopicConfig(flush: .everyAppend))
        fileSystem.resetCounts()
        let producers = 16
        let appendsEach = 20
        let receipts = try await withThrowingTaskGroup(of: [AppendReceipt].self) { group in
            for producer in 0..<producers {
                group.addTask {
                    var mine: [AppendReceipt] = []
                    for index in 0..<appendsEach {
                        mine.append(try await topic.append([Record(value: "\(producer)-\(index)")], partition: 0))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(receipts.map(\.baseOffset)) == Set(0..<Int64(producers * appendsEach)))
        #expect(fileSystem.dataSyncCount < producers * appendsEach, "group commit shares fsyncs (\(fileSystem.dataSyncCount) for \(producers * appendsEach) appends)")
        let records = try fixture.readAll(topic)
        #expect(records.count == producers * appendsEach)
        for producer in 0..<producers {
            let mine = records.compactMap(\.valueString).filter { $0.hasPrefix("\(producer)-") }
            #expect(mine == (0..<appendsEach).map { "\(producer)-\($0)" }, "each producer's records keep its order")
        }
    }

    @Test func aFailedFsyncFailsTheAppendAndFencesThePartitionUntilReopen() async throws {
        let fixture = try StoreFixture()
        let fileSystem = CountingFileSystem()
        let topic = try open(fixture, fileSystem: fileSystem).createTopic("events", config: TopicConfig(flush: .everyAppend))
        try await fixture.append(topic, count: 10, batchSize: 10)
        fileSystem.failNextDataSync(errno: EIO)
        await expectStoreError(.io(errno: EIO)) { try await fixture.append(topic, count: 1, first: 10) }
        // The next fsync would succeed, but that proves nothing: the partition stays fenced.
        do {
            try await fixture.append(topic, count: 1, first: 11)
            Issue.record("appends must be refused after a failed fsync")
        } catch let error as StreamStoreError {
            #expect(error.code == .io(errno: EIO))
        }
        #expect(try topic.logEndOffset(partition: 0) == 10, "readers never see the unacknowledged batch")
        fixture.crash()
        let reopened = try open(fixture, fileSystem: CountingFileSystem()).topic("events")
        try await fixture.append(reopened, count: 1, first: 99)
        #expect(try reopened.logEndOffset(partition: 0) >= 11)
    }

    @Test func aFullDiskFailsTheAppendAndAppendsResumeWhenSpaceReturns() async throws {
        let fixture = try StoreFixture()
        let fileSystem = CountingFileSystem()
        let topic = try open(fixture, fileSystem: fileSystem).createTopic("events", config: TopicConfig(flush: .everyAppend))
        try await fixture.append(topic, count: 10, batchSize: 10)
        fileSystem.failWrites(errno: ENOSPC)
        do {
            try await fixture.append(topic, count: 5, first: 10)
            Issue.record("a full disk must fail the append")
        } catch let error as StreamStoreError {
            #expect(error.code == .io(errno: ENOSPC))
            #expect(error.message.contains("Free disk space"))
        }
        #expect(values(try fixture.readAll(topic)) == (0..<10).map { "value-\($0)" }, "acknowledged data stays readable")
        fileSystem.failWrites(errno: nil)
        let receipts = try await fixture.append(topic, count: 5, first: 10)
        #expect(receipts.first?.baseOffset == 10)
        #expect(values(try fixture.readAll(topic)) == (0..<15).map { "value-\($0)" })
        try fixture.expectConsistent()
    }

    @Test func rollingWithoutFlushSyncsTheSealedSegmentInTheBackgroundAndMovesTheRecoveryPoint() async throws {
        let fixture = try StoreFixture()
        let fileSystem = CountingFileSystem()
        let topic = try open(fixture, fileSystem: fileSystem).createTopic("events", config: TopicConfig(segmentBytes: 4096, flush: .never))
        fileSystem.resetCounts()
        try await fixture.append(topic, count: 400, batchSize: 10)
        let segments = try fixture.segmentFiles()
        #expect(segments.count > 2)
        topic.partitions[0].groupCommit.drain()
        #expect(fileSystem.dataSyncCount == segments.count - 1, "one fsync per sealed segment, none per append")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.partitionFolder() + "/checkpoints")))
        let checkpoint = try #require(Checkpoint.decode(bytes))
        let activeBase = Int64(URL(fileURLWithPath: segments.last!).deletingPathExtension().lastPathComponent)
        #expect(checkpoint.recoveryPoint == activeBase)
    }

    @Test func intervalFlushSyncsSoonAfterAppends() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let topic = try fixture.open(through: fileSystem).createTopic("events", config: TopicConfig(flush: .interval(milliseconds: 20)))
        // The timer's first fsync is parked: the appends go on without waiting for it.
        let timerSync = fileSystem.hold(.fdatasync, pathContaining: ".log")
        try await fixture.append(topic, count: 100, batchSize: 1)
        await timerSync.waitUntilReached()
        timerSync.release()
        topic.partitions[0].groupCommit.drain()
        #expect(fileSystem.callCount(.fdatasync) >= 1)
        #expect(fileSystem.callCount(.fdatasync) < 100, "one fsync per interval, not per append")
    }

    @Test func concurrentReadersAndWritersOnManyPartitions() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("busy", config: TopicConfig(partitionCount: 4, segmentBytes: 16 * 1024, indexIntervalBytes: 512, flush: .never))
        let perPartition = 2_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for partition in 0..<4 {
                group.addTask {
                    var batch = RecordBatch()
                    for index in 0..<perPartition {
                        try batch.append(key: nil, value: Array("p\(partition)-\(index)".utf8))
                        if batch.count == 25 {
                            _ = try await topic.append(batch, partition: partition)
                            batch.removeAll()
                        }
                    }
                }
                group.addTask {
                    // A reader racing the writer sees a growing, gap-free prefix.
                    var next: Int64 = 0
                    while next < Int64(perPartition) {
                        let records = try topic.read(partition: partition, from: next, maxBytes: 4096)
                        for record in records {
                            #expect(record.offset == next)
                            #expect(record.valueString == "p\(partition)-\(next)")
                            next += 1
                        }
                        if records.isEmpty { await Task.yield() }
                    }
                }
            }
            try await group.waitForAll()
        }
        try fixture.expectConsistent()
    }
}
