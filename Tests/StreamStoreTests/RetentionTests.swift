import Foundation
import Logging
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Time- and size-based retention with an injected clock: what goes, what stays and why, the
/// moving log start offset, crash points of a deletion, and readers racing it.
@Suite(.timeLimit(.minutes(5))) struct RetentionTests {
    static let day: Int64 = 86_400_000

    /// Appends `batches` batches of 20 records of about 100 bytes, moving the clock `stepMilliseconds` after each.
    private func fill(_ fixture: StoreFixture, _ topic: Topic, batches: Int, stepMilliseconds: Int64, partition: Int = 0, first: Int = 0) async throws {
        for index in 0..<batches {
            var batch = RecordBatch()
            for record in 0..<20 {
                try batch.append(key: nil, value: Array(String(format: "%-100d", first + index * 20 + record).utf8))
            }
            _ = try await topic.append(batch, partition: partition)
            fixture.clock.advance(milliseconds: stepMilliseconds)
        }
    }

    private func segmentFiles(_ fixture: StoreFixture, partition: Int = 0) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "\(fixture.path)/events/\(partition)").filter { $0.hasSuffix(".log") }.sorted()
    }

    @Test func timeRetentionDeletesTheExpiredPrefixAndMovesTheLogStart() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 8192, flush: .never, retentionMilliseconds: Self.day))
        try await fill(fixture, topic, batches: 40, stepMilliseconds: 3_600_000)  // 40 hours of data
        let segmentsBefore = try segmentFiles(fixture).count
        #expect(segmentsBefore > 4)

        let dry = try fixture.store!.enforceRetention(dryRun: true)
        #expect(try segmentFiles(fixture).count == segmentsBefore, "a dry run deletes nothing")
        #expect(try topic.logStartOffset(partition: 0) == 0)

        let report = try fixture.store!.enforceRetention()[0]
        #expect(report.deleted == dry[0].deleted)
        #expect(!report.deleted.isEmpty && report.deleted.allSatisfy { $0.reason == "time" })
        let cutoff = fixture.clock.nowMilliseconds() - Self.day
        #expect(report.deleted.allSatisfy { $0.maxTimestamp! < cutoff })
        #expect(report.kept.first!.maxTimestamp! >= cutoff)
        #expect(report.kept.first!.reason.contains("inside the 1d window"))
        #expect(report.logStartOffset == report.kept.first!.baseOffset)
        #expect(try topic.logStartOffset(partition: 0) == report.logStartOffset)
        #expect(try segmentFiles(fixture).count == segmentsBefore - report.deleted.count)

        // What is left reads from the new start, densely, to the end.
        let records = try fixture.readAll(topic)
        #expect(records.first?.offset == report.logStartOffset && records.last?.offset == 799)
        #expect(records.map(\.offset) == Array(report.logStartOffset..<800))
        try fixture.expectConsistent()
        // The new start survives a reopen, clean or not.
        try fixture.crashAndReopen()
        #expect(try fixture.store!.topic("events").logStartOffset(partition: 0) == report.logStartOffset)
    }

    @Test func sizeRetentionKeepsThePartitionWithinItsBudgetPlusOneSegment() async throws {
        let fixture = try StoreFixture()
        let budget: Int64 = 30_000
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 8192, flush: .never, retentionMilliseconds: nil, retentionBytes: budget))
        try await fill(fixture, topic, batches: 60, stepMilliseconds: 1)
        let report = try fixture.store!.enforceRetention()[0]
        #expect(report.deleted.allSatisfy { $0.reason == "size" } && !report.deleted.isEmpty)
        #expect(report.bytesAfter <= budget + 8192)
        let onDisk = try segmentFiles(fixture).reduce(Int64(0)) { total, name in
            total + (try FileManager.default.attributesOfItem(atPath: "\(fixture.path)/events/0/\(name)")[.size] as! Int64)
        }
        #expect(onDisk == report.bytesAfter && onDisk <= budget + 8192)
        #expect(report.kept.last!.reason.contains("active segment"))
        // Enforcing again deletes nothing more.
        #expect(try fixture.store!.enforceRetention()[0].deleted.isEmpty)
    }

    @Test func timeAndSizeTogetherTakeTheLongerPrefix() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 8192, flush: .never, retentionMilliseconds: Self.day, retentionBytes: 20_000))
        try await fill(fixture, topic, batches: 40, stepMilliseconds: 600_000)  // under 7 hours: nothing expires by time
        var report = try fixture.store!.enforceRetention()[0]
        #expect(!report.deleted.isEmpty && report.deleted.allSatisfy { $0.reason == "size" })
        let afterSize = report.logStartOffset
        fixture.clock.advance(milliseconds: 2 * Self.day)
        try await fill(fixture, topic, batches: 2, stepMilliseconds: 1, first: 800)
        report = try fixture.store!.enforceRetention()[0]
        #expect(report.deleted.contains { $0.reason == "time" })
        #expect(report.logStartOffset > afterSize)
        // What is kept is the segment holding the new records, whose newest record is recent.
        #expect(report.kept.allSatisfy { $0.maxTimestamp.map { $0 >= fixture.clock.nowMilliseconds() - Self.day } ?? true })
    }

    @Test func anEmptyPartitionKeepsItsActiveSegment() async throws {
        let fixture = try StoreFixture()
        _ = try fixture.topic(config: TopicConfig(flush: .never, retentionMilliseconds: 1))
        fixture.clock.advance(milliseconds: Self.day)
        let report = try fixture.store!.enforceRetention()[0]
        #expect(report.deleted.isEmpty && report.logStartOffset == 0)
        #expect(report.kept.count == 1 && report.kept[0].reason.contains("empty"))
    }

    @Test func anExpiredActiveSegmentIsRolledAndDeleted() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never, retentionMilliseconds: Self.day))
        try await fill(fixture, topic, batches: 3, stepMilliseconds: 1)
        fixture.clock.advance(milliseconds: 2 * Self.day)
        let report = try fixture.store!.enforceRetention()[0]
        #expect(report.deleted.count == 1 && report.deleted[0].baseOffset == 0)
        #expect(report.logStartOffset == 60)
        #expect(try topic.logStartOffset(partition: 0) == 60 && topic.logEndOffset(partition: 0) == 60)
        #expect(try topic.read(partition: 0, from: 60).isEmpty)
        try await fill(fixture, topic, batches: 1, stepMilliseconds: 1, first: 60)
        #expect(try fixture.readAll(topic).map(\.offset) == Array(60..<80))
        try fixture.reopen()
        #expect(try fixture.store!.topic("events").logStartOffset(partition: 0) == 60)
        try fixture.expectConsistent()
    }

    @Test func groupOffsetsBelowTheNewLogStartShowInLagAndResumeAtTheStart() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never, retentionMilliseconds: Self.day))
        try await fill(fixture, topic, batches: 20, stepMilliseconds: 3_600_000)
        fixture.clock.advance(milliseconds: 10 * 3_600_000)  // the first hours fall out of the day
        let group = try fixture.store!.group("g")
        try await group.commit(topic: "events", offsets: [0: 5])
        let report = try fixture.store!.enforceRetention()[0]
        let start = report.logStartOffset
        #expect(start > 5)
        let lag = try group.lag(topic: "events")[0]
        #expect(lag.committedBelowLogStart && lag.committedOffset == 5)
        #expect(lag.lagRecords == 400 - start)
        let consumer = try fixture.store!.consumer(group: "g", topic: "events")
        var iterator = consumer.records.makeAsyncIterator()
        #expect(try await iterator.next()?.offset == start)
        consumer.close()
        // With .fail the consumer reports the gap instead.
        let strict = try fixture.store!.consumer(group: "g", topic: "events", options: ConsumerOptions(resetPolicy: .fail))
        var strictIterator = strict.records.makeAsyncIterator()
        await expectStoreError(.offsetOutOfRange) { _ = try await strictIterator.next() }
        strict.close()
    }

    @Test func retentionSettingsChangeLaterAndPersist() async throws {
        let fixture = try StoreFixture()
        _ = try fixture.topic(config: TopicConfig(flush: .never))
        let updated = try fixture.store!.updateTopic("events") {
            $0.retentionMilliseconds = 3 * Self.day
            $0.retentionBytes = 1 << 30
            $0.compression = .zstd(level: 1)
        }
        #expect(updated.retentionMilliseconds == 3 * Self.day && updated.retentionBytes == 1 << 30)
        try fixture.reopen()
        let config = try fixture.store!.topic("events").config
        #expect(config == updated)
        try fixture.store!.updateTopic("events") { $0.retentionMilliseconds = nil }
        try fixture.reopen()
        #expect(try fixture.store!.topic("events").config.retentionMilliseconds == nil, "unlimited survives a reopen")
        do {
            try fixture.store!.updateTopic("events") { $0.partitionCount = 4 }
            Issue.record("expected invalidConfig")
        } catch {
            #expect(error.code == .invalidConfig)
        }
        expectStoreError(.invalidConfig) { _ = try fixture.store!.updateTopic("events") { $0.retentionBytes = 0 } }
    }

    @Test func backgroundRetentionRunsOnItsInterval() async throws {
        let fixture = try StoreFixture()
        var options = Store.Options(clock: fixture.clock, retentionCheckMilliseconds: 20)
        options.logger = Logger(label: "test")
        let store = try Store.open(at: fixture.path, options: options)
        fixture.store = store
        let topic = try store.createTopic("events", config: TopicConfig(flush: .never, retentionMilliseconds: Self.day))
        try await fill(fixture, topic, batches: 2, stepMilliseconds: 1)
        fixture.clock.advance(milliseconds: 2 * Self.day)
        try await waitUntil { (try? topic.logStartOffset(partition: 0)) == 40 }
    }

    /// Each crash point of a deletion: the checkpoint cannot be written (nothing changes), the
    /// files cannot all be unlinked (the next open finishes the job), or the disk is full (the
    /// segments go anyway, the checkpoint after them cannot be written either, and the next
    /// open takes its log start from the first segment left).
    @Test(arguments: ["checkpoint", "unlink", "full disk"])
    func aDeletionInterruptedAtAnyPointLeavesAConsistentPartition(point: String) async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        try fixture.open(through: fileSystem)
        // The topic goes out of scope before the crash: a live reference would keep its files open.
        do {
            let topic = try fixture.store!.createTopic("events", config: TopicConfig(segmentBytes: 4096, flush: .never, retentionMilliseconds: Self.day))
            try await fill(fixture, topic, batches: 20, stepMilliseconds: 3_600_000)
        }
        fixture.clock.advance(milliseconds: 10 * 3_600_000)
        let expectedStart = try fixture.store!.enforceRetention(dryRun: true)[0].logStartOffset
        switch point {
        case "checkpoint": fileSystem.fail(.rename, errno: EIO, pathContaining: "checkpoints", times: .always)
        case "unlink": fileSystem.fail(.unlink, errno: EIO, pathContaining: ".index", after: 1)
        default: fileSystem.fail(.write, errno: ENOSPC, pathContaining: "checkpoints", times: .always)
        }
        if point == "full disk" {
            #expect(try fixture.store!.enforceRetention()[0].logStartOffset == expectedStart)
            // Deleted with the checkpoint still at the old log start: the crash below lands
            // between the deletion and a checkpoint that could never be written.
            let checkpoint = FileManager.default.contents(atPath: "\(fixture.path)/events/0/\(FileNames.checkpoints)").flatMap { Checkpoint.decode(Array($0)) }
            #expect(checkpoint?.logStartOffset == 0)
            #expect(try segmentFiles(fixture).first == String(format: "%020d.log", expectedStart))
        } else {
            expectStoreError(.io(errno: EIO)) { _ = try fixture.store!.enforceRetention() }
        }
        fixture.crash(through: fileSystem)
        let store = try fixture.open()
        let start = try store.topic("events").logStartOffset(partition: 0)
        #expect(expectedStart > 0)
        #expect(start == (point == "checkpoint" ? 0 : expectedStart))
        let records = try fixture.readAll(try store.topic("events"))
        #expect(records.map(\.offset) == Array(start..<400))
        let bases = try segmentFiles(fixture).map { Int64($0.dropLast(4))! }
        #expect(bases.first == start, "no segment below the log start is left: \(bases)")
        try fixture.expectConsistent()
    }

    /// One partition whose run fails does not keep retention from the others (it is what frees
    /// a full disk): they delete, and the failure thrown afterwards says so.
    @Test func aPartitionThatFailsDoesNotStopTheOthers() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        try fixture.open(through: fileSystem)
        let topic = try fixture.store!.createTopic(
            "events", config: TopicConfig(partitionCount: 3, segmentBytes: 4096, flush: .never, retentionMilliseconds: Self.day))
        for partition in 0..<3 { try await fill(fixture, topic, batches: 20, stepMilliseconds: 3_600_000, partition: partition) }
        fixture.clock.advance(milliseconds: 10 * 3_600_000)
        let planned = try fixture.store!.enforceRetention(dryRun: true)
        #expect(planned.allSatisfy { !$0.deleted.isEmpty })
        fileSystem.fail(.rename, errno: EIO, pathContaining: "events/1/checkpoints", times: .always)
        let failure = expectStoreError(.io(errno: EIO), mentioning: "2 of 3 ran") { _ = try fixture.store!.enforceRetention() }
        #expect(failure?.partition == 1)
        for partition in [0, 2] {
            #expect(try topic.logStartOffset(partition: partition) == planned[partition].logStartOffset)
        }
        #expect(try topic.logStartOffset(partition: 1) == 0, "the failed partition deleted nothing")
        fileSystem.clearFaults()
        #expect(try fixture.store!.enforceRetention()[1].logStartOffset == planned[1].logStartOffset)
    }

    /// Readers replay from the start again and again while appends and retention move the log
    /// start under them: they never crash, never see a torn record, and always read densely.
    @Test func readersRacingDeletionAreNotDisturbed() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never, retentionMilliseconds: nil, retentionBytes: 12_000))
        let store = fixture.store!
        let done = Locked(false)
        let readers = (0..<3).map { _ in
            Task { () -> Int in
                var passes = 0
                repeat {
                    var previous: Int64?
                    for try await record in topic.replay(options: ReplayOptions(maxBytesPerRead: 1024)) {
                        // Retention may move the log start past the reader, which then jumps
                        // forward to it (reset policy .earliest); it never goes back.
                        if let previous, record.offset <= previous {
                            Issue.record("offsets went from \(previous) back to \(record.offset) within one pass")
                        }
                        // Values are the offset, padded: a torn or misplaced record shows here.
                        let value = Int(record.valueString!.trimmingCharacters(in: .whitespaces))
                        #expect(value == Int(record.offset))
                        previous = record.offset
                        // Replays never wait here, so give the writer (same cooperative pool) a turn.
                        if record.offset % 64 == 0 { await Task.yield() }
                    }
                    passes += 1
                } while !done.withLock({ $0 })
                return passes
            }
        }
        for round in 0..<150 {
            try await fill(fixture, topic, batches: 2, stepMilliseconds: 1, first: round * 40)
            try store.enforceRetention()
            await Task.yield()
        }
        done.withLock { $0 = true }
        for reader in readers { #expect(try await reader.value > 0) }
        #expect(try topic.logStartOffset(partition: 0) > 0)
    }
}
