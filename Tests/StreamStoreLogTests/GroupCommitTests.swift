import Foundation
import Testing

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Group commit: appenders that wrote while an fsync ran share the next one; a failed fsync
/// fails every appender waiting on it and fences the partition; a sealed segment and an
/// `.interval` log are fsynced off the append path. Each order of events is forced by parking
/// an fsync (``SyncControlFileSystem/hold(pathContaining:)``), never by waiting a while.
@Suite(.timeLimit(.minutes(5))) struct GroupCommitTests {
    /// A new log whose fdatasyncs the test controls; the fixture keeps its folder while it lives.
    private struct ControlledLog {
        let fixture: LogFixture
        let fileSystem: SyncControlFileSystem
        let partition: Partition

        init(_ config: LogConfig) throws {
            fileSystem = SyncControlFileSystem()
            fixture = try LogFixture(config: config, fileSystem: fileSystem)
            try fixture.open(clean: false)
            partition = try fixture.opened()
        }

        var logSyncs: Int { fileSystem.syncCount(pathContaining: FileNames.logSuffix) }
    }

    /// Writes batch `index` (10 records) and returns a task waiting until it is durable.
    private func writeAndWait(_ partition: Partition, batch index: Int) throws -> Task<Void, any Error> {
        let written = try partition.write(try LogFixture.batch(values: (index * 10)..<(index * 10 + 10)))
        let end = try #require(written.durableEnd, "an .everyAppend write waits for its fsync")
        return Task { try await partition.groupCommit.waitDurable(upTo: end) }
    }

    @Test func aLoneAppenderPaysOneFsyncPerAppendAndADurableEndNone() async throws {
        let log = try ControlledLog(.testing(flush: .everyAppend))
        let before = log.logSyncs
        try await log.fixture.append(batches: 5)
        #expect(log.logSyncs - before == 5)
        try await log.partition.groupCommit.waitDurable(upTo: 50)
        #expect(log.logSyncs - before == 5, "what is durable already needs no fsync")
        #expect(log.partition.offsets.logEnd == 50)
    }

    /// One appender's fsync is parked; eight more write meanwhile. Whenever their waits arrive,
    /// the next fsync starts after all eight writes and covers them: two fsyncs in all.
    @Test func appendersThatWroteDuringAnFsyncShareTheNextOne() async throws {
        let log = try ControlledLog(.testing(flush: .everyAppend))
        let before = log.logSyncs
        let gate = log.fileSystem.hold(pathContaining: FileNames.logSuffix)
        let first = try writeAndWait(log.partition, batch: 0)
        await gate.waitUntilReached()
        let others = try (1...8).map { try writeAndWait(log.partition, batch: $0) }
        #expect(log.partition.offsets.logEnd == 0, "nothing is visible before its fsync")
        gate.release()

        try await first.value
        for other in others { try await other.value }
        #expect(log.logSyncs - before == 2)
        #expect(log.partition.offsets.logEnd == 90)
    }

    /// The parked fsync fails: the appender waiting on it and the eight that wrote meanwhile all
    /// fail with its error, nothing becomes visible, and the partition refuses appends even
    /// though the next fsync would succeed (the kernel may have dropped the pages it failed on).
    @Test func aFailedFsyncFailsEveryWaiterAndFencesThePartition() async throws {
        let log = try ControlledLog(.testing(flush: .everyAppend))
        let gate = log.fileSystem.hold(pathContaining: FileNames.logSuffix)
        let first = try writeAndWait(log.partition, batch: 0)
        await gate.waitUntilReached()
        let others = try (1...8).map { try writeAndWait(log.partition, batch: $0) }
        log.fileSystem.failSyncs(pathContaining: FileNames.logSuffix, errno: EIO)
        gate.release()

        for (index, waiter) in ([first] + others).enumerated() {
            switch await waiter.result {
            case .success: Issue.record("waiter \(index) was told its append is durable")
            case .failure(let error): #expect((error as? StreamStoreError)?.code == .io(errno: EIO), "waiter \(index): \(error)")
            }
        }
        #expect(log.partition.currentFailure?.code == .io(errno: EIO))
        #expect(log.partition.offsets.logEnd == 0)
        log.fileSystem.clearFailures()
        let waited = await #expect(throws: StreamStoreError.self) { try await log.partition.groupCommit.waitDurable(upTo: 90) }
        #expect(waited?.code == .io(errno: EIO), "the fence's error, not another: \(String(describing: waited))")
        do {
            _ = try await log.partition.append(try LogFixture.batch(values: 90..<100))
            Issue.record("a fenced partition must refuse appends")
        } catch {
            #expect((error as? StreamStoreError)?.code == .io(errno: EIO))
        }
    }

    /// Under `.never` a roll hands the sealed segment's fsync to the background; the recovery
    /// point moves past the segment only once that fsync is done.
    @Test func aSealedSegmentIsFsyncedInTheBackgroundBeforeTheRecoveryPointMoves() async throws {
        let log = try ControlledLog(.testing(segmentBytes: 1000, flush: .never))
        let gate = log.fileSystem.hold(pathContaining: "00000000000000000000.log")
        // Three batches fill the first segment; the fourth rolls.
        try await log.fixture.append(batches: 4)
        await gate.waitUntilReached()
        #expect(try log.fixture.checkpoint()?.recoveryPoint == 0, "the sealed segment is not durable yet")
        gate.release()
        log.partition.groupCommit.drain()
        #expect(try log.fixture.checkpoint()?.recoveryPoint == 30)
        #expect(log.partition.currentFailure == nil)
    }

    @Test func aFailedBackgroundFsyncOfASealedSegmentFencesThePartition() async throws {
        let log = try ControlledLog(.testing(segmentBytes: 1000, flush: .never))
        log.fileSystem.failSyncs(pathContaining: "00000000000000000000.log", errno: EIO)
        try await log.fixture.append(batches: 4)
        log.partition.groupCommit.drain()
        #expect(log.partition.currentFailure?.code == .io(errno: EIO))
        #expect(try log.fixture.checkpoint()?.recoveryPoint == 0)
        let refused = await #expect(throws: StreamStoreError.self) { try await log.fixture.append(batches: 1, first: 40) }
        #expect(refused?.code == .io(errno: EIO), "the fence's error, not another: \(String(describing: refused))")
    }

    /// Under `.interval` an append returns without waiting for its fsync, which a timer makes
    /// soon after: the parked fsync proves the append did not wait for it.
    @Test func anIntervalFlushFsyncsAfterTheAppendReturned() async throws {
        let log = try ControlledLog(.testing(flush: .interval(milliseconds: 5)))
        let before = log.logSyncs
        let gate = log.fileSystem.hold(pathContaining: FileNames.logSuffix)
        try await log.fixture.append(batches: 1)
        #expect(log.partition.offsets.logEnd == 10, "visible once written")
        await gate.waitUntilReached()
        gate.release()
        log.partition.groupCommit.drain()
        #expect(log.logSyncs - before == 1)
    }
}
