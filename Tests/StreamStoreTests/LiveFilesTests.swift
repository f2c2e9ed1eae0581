import Foundation
import Testing
import CStreamStoreShims

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// The files a writer shares with reader processes: a partition's published end and the store's
/// live file with the word readers sleep on. A second mapping of the same file in this process
/// sees the same bytes a reader process would.
@Suite("Live files", .timeLimit(.minutes(1)))
struct LiveFilesTests {
    let folder: String
    let fileSystem = PosixFileSystem.shared

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-live-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    private func end(_ offset: Int64, generation: UInt64 = 1) -> PublishedEnd {
        PublishedEnd(
            offset: offset, segmentBaseOffset: offset / 100 * 100, position: offset * 7, logStartOffset: 3, segmentListVersion: UInt64(offset / 100),
            writerGeneration: generation, activeMaxTimestamp: 1_700_000_000_000 + offset)
    }

    @Test func aReaderSeesNothingBeforeTheFirstPublishAndTheNewestAfter() throws {
        let writer = try PublishedEndFile.openForWriting(folder: folder, mode: 0o600, fileSystem: fileSystem)
        let reader = try #require(try PublishedEndFile.openForReading(folder: folder, fileSystem: fileSystem))
        #expect(reader.read() == nil)
        for offset in Int64(1)...5 { writer.publish(end(offset * 10)) }
        #expect(reader.read() == end(50))
        writer.publish(end(123))
        #expect(reader.read() == end(123))
    }

    @Test func aReaderOfAPartitionNoWriterOpenedGetsNil() throws {
        #expect(try PublishedEndFile.openForReading(folder: folder, fileSystem: fileSystem) == nil)
        // A file shorter than a page (a writer still creating it) is not read either.
        try #require(FileManager.default.createFile(atPath: folder + "/published", contents: Data([1, 2, 3])))
        #expect(try PublishedEndFile.openForReading(folder: folder, fileSystem: fileSystem) == nil)
    }

    @Test func aFileOfAnotherKindIsNotReadAndTheWriterResetsIt() throws {
        try #require(FileManager.default.createFile(atPath: folder + "/published", contents: Data(repeating: 0xAB, count: 4096)))
        #expect(try PublishedEndFile.openForReading(folder: folder, fileSystem: fileSystem) == nil)
        let writer = try PublishedEndFile.openForWriting(folder: folder, mode: 0o600, fileSystem: fileSystem)
        let reader = try #require(try PublishedEndFile.openForReading(folder: folder, fileSystem: fileSystem))
        #expect(reader.read() == nil)
        writer.publish(end(7))
        #expect(reader.read() == end(7))
    }

    @Test func aWriteTornInOneSlotLeavesTheOtherSlotForReaders() throws {
        let writer = try PublishedEndFile.openForWriting(folder: folder, mode: 0o600, fileSystem: fileSystem)
        writer.publish(end(10))  // slot 1
        writer.publish(end(20))  // slot 0
        // A writer killed inside its next write (to slot 1) leaves that slot's sequence odd.
        let slot = PublishedEndFile.slotOffsets[1]
        let raw = try LiveMapping.openForWriting(folder + "/published", magic: PublishedEndFile.magic, mode: 0o600, fileSystem: fileSystem)
        let sequence = raw.load(at: slot)
        raw.store(sequence + 1, at: slot)
        raw.store(UInt64(bitPattern: 999), at: slot + 16)
        let reader = try #require(try PublishedEndFile.openForReading(folder: folder, fileSystem: fileSystem))
        #expect(reader.read() == end(20))
    }

    @Test func aReopenedWriterContinuesTheCountSoReadersTakeItsNewestEnd() throws {
        do {
            let writer = try PublishedEndFile.openForWriting(folder: folder, mode: 0o600, fileSystem: fileSystem)
            for offset in Int64(1)...3 { writer.publish(end(offset)) }
        }
        let reader = try #require(try PublishedEndFile.openForReading(folder: folder, fileSystem: fileSystem))
        #expect(reader.read() == end(3))
        let restarted = try PublishedEndFile.openForWriting(folder: folder, mode: 0o600, fileSystem: fileSystem)
        restarted.publish(end(4, generation: 2))
        #expect(reader.read() == end(4, generation: 2))
    }

    @Test func theStoreLiveFileNamesTheWriterAndCountsGenerations() throws {
        let first = try LiveStoreFile.openForWriting(storeFolder: folder, mode: 0o600, fileSystem: fileSystem)
        let reader = try #require(try LiveStoreFile.openForReading(storeFolder: folder, fileSystem: fileSystem))
        #expect(reader.writerPID == getpid())
        #expect(reader.writerGeneration == 1)
        first.topicsChanged()
        #expect(reader.topicsVersion == 1)
        first.writerClosed()
        #expect(reader.writerPID == 0)
        _ = try LiveStoreFile.openForWriting(storeFolder: folder, mode: 0o600, fileSystem: fileSystem)
        #expect(reader.writerGeneration == 2)
        #expect(reader.topicsVersion == 1)
    }

    @Test func aSleepingReaderIsWokenBySignalNotByItsTimeout() async throws {
        let writer = try LiveStoreFile.openForWriting(storeFolder: folder, mode: 0o600, fileSystem: fileSystem)
        let reader = try #require(try LiveStoreFile.openForReading(storeFolder: folder, fileSystem: fileSystem))
        let before = reader.signalValue
        let started = DispatchSemaphore(value: 0)
        let woke = DispatchSemaphore(value: 0)
        let thread = Thread {
            started.signal()
            let start = DispatchTime.now().uptimeNanoseconds
            // A 20 s limit: a wake by the signal returns long before it.
            while reader.signalValue == before && DispatchTime.now().uptimeNanoseconds - start < 20_000_000_000 {
                reader.wait(whileSignalIs: before, timeoutNanoseconds: 20_000_000_000)
            }
            woke.signal()
        }
        thread.start()
        started.wait()
        let start = DispatchTime.now().uptimeNanoseconds
        writer.signal()
        #expect(woke.wait(timeout: .now() + 10) == .success)
        #expect(DispatchTime.now().uptimeNanoseconds - start < 5_000_000_000)
        #expect(reader.signalValue == before &+ 1)
    }

    @Test func aWaitOnAWordThatAlreadyMovedReturnsAtOnce() throws {
        let writer = try LiveStoreFile.openForWriting(storeFolder: folder, mode: 0o600, fileSystem: fileSystem)
        let stale = writer.signalValue
        writer.signal()
        let start = DispatchTime.now().uptimeNanoseconds
        writer.wait(whileSignalIs: stale, timeoutNanoseconds: 10_000_000_000)
        #expect(DispatchTime.now().uptimeNanoseconds - start < 1_000_000_000)
    }
}
