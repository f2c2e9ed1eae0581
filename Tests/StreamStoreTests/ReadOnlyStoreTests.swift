import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// A store opened read-only beside its writer. Here both live in one process (a read-only open
/// takes no lock); the reader only learns what the writer publishes in the shared files, exactly
/// as a reader process does. ReaderProcessTests runs the same with real processes.
@Suite("Read-only store", .timeLimit(.minutes(2)))
struct ReadOnlyStoreTests {
    let fixture: StoreFixture

    init() throws { fixture = try StoreFixture() }

    private func openReader() throws -> Store {
        try Store.open(at: fixture.path, options: Store.Options(clock: fixture.clock, retentionCheckMilliseconds: nil, mode: .readOnly))
    }

    private func values(_ store: Store, topic: String = "events", partition: Int = 0) throws -> [String] {
        try fixture.readAll(try store.topic(topic), partition: partition).map { $0.valueString ?? "" }
    }

    @Test func aReaderSeesWhatTheWriterPublishedAndFollowsNewAppends() async throws {
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 100)
        let reader = try openReader()
        #expect(try values(reader) == (0..<100).map { "value-\($0)" })
        try await fixture.append(topic, count: 50, first: 100)
        #expect(try values(reader) == (0..<150).map { "value-\($0)" })
        #expect(try reader.topic("events").logEndOffset(partition: 0) == 150)
    }

    @Test func aReaderFollowsSegmentRollsAndRetention() async throws {
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never, retentionMilliseconds: nil, retentionBytes: 20_000))
        try await fixture.append(topic, count: 200, batchSize: 10)
        let reader = try openReader()
        let before = try values(reader)
        #expect(before.count == 200)
        try await fixture.append(topic, count: 800, batchSize: 10, first: 200)
        _ = try fixture.store?.enforceRetention(topic: "events")
        let start = try topic.logStartOffset(partition: 0)
        #expect(start > 0)
        #expect(try reader.topic("events").logStartOffset(partition: 0) == start)
        #expect(try values(reader) == (Int(start)..<1000).map { "value-\($0)" })
    }

    @Test func aReaderFindsTopicsCreatedAfterItOpened() async throws {
        _ = try fixture.topic()
        let reader = try openReader()
        #expect(reader.topicNames == ["events"])
        let late = try fixture.topic("late")
        try await fixture.append(late, count: 5)
        #expect(try values(reader, topic: "late") == (0..<5).map { "value-\($0)" })
        #expect(reader.topicNames == ["events", "late"])
    }

    @Test func aReaderRefusesEveryWriteWithATypedError() async throws {
        _ = try fixture.topic()
        let reader = try openReader()
        let topic = try reader.topic("events")
        await expectStoreError(.readOnly) { _ = try await topic.append([Record(value: Array("x".utf8))], partition: 0) }
        do {
            _ = try await topic.append([Record(value: Array("x".utf8))], partition: 0)
        } catch {
            #expect(error.code == .readOnly)
        }
        expectStoreError(.readOnly) { _ = try reader.createTopic("other") }
        do {
            _ = try reader.createTopic("other")
        } catch {
            #expect(error.code == .readOnly)
            #expect(error.message.contains("process \(getpid())"))
        }
    }

    @Test func aReaderWritesNothingIntoTheStoreFolder() async throws {
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 10)
        try fixture.store?.close()
        fixture.store = nil
        let before = try snapshotOfFolder()
        let reader = try openReader()
        _ = try values(reader)
        try reader.close()
        #expect(try snapshotOfFolder() == before)
    }

    @Test func aReaderCarriesOnAcrossAWriterRestart() async throws {
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 10)
        let reader = try openReader()
        #expect(try values(reader).count == 10)
        let restarted = try fixture.crashAndReopen()
        try await fixture.append(try restarted.topic("events"), count: 10, first: 10)
        #expect(try values(reader) == (0..<20).map { "value-\($0)" })
    }

    @Test func aTailingReaderIsWokenByTheWritersAppends() async throws {
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 3)
        let reader = try openReader()
        let replay = try reader.topic("events").replay(partition: 0, options: ReplayOptions(from: .beginning, until: .offset(8), follow: true))
        let tail = Task {
            var seen: [String] = []
            for try await record in replay { seen.append(record.valueString ?? "") }
            return seen
        }
        try await fixture.append(topic, count: 5, batchSize: 1, first: 3)
        #expect(try await tail.value == (0..<8).map { "value-\($0)" })
    }

    /// Every file in the store folder with its inode (a replaced file gets a new one), its
    /// modification time to the nanosecond, and its bytes.
    private func snapshotOfFolder() throws -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: fixture.path)
        while let name = enumerator?.nextObject() as? String {
            let path = fixture.path + "/" + name
            var info = stat()
            #expect(stat(path, &info) == 0)
            let bytes = (info.st_mode & S_IFMT) == S_IFREG ? (FileManager.default.contents(atPath: path) ?? Data()) : Data()
            result[name] = "\(info.st_ino) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(bytes.base64EncodedString())"
        }
        return result
    }

    /// A reader following a growing active segment copies only the index entries the writer
    /// added since its last copy, and ends up with the same index a fresh copy would hold.
    @Test func aReaderExtendsItsIndexCopyWithOnlyTheNewEntries() async throws {
        let topic = try fixture.topic(config: TopicConfig(indexIntervalBytes: 512, flush: .never))
        let reader = try openReader()
        let readerPartition = try reader.topic("events").partition(0)
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: 1000)
        var refreshes = 0
        var last = 0
        // About 12 MiB: the reader's copy is refreshed at least twice on the way.
        for round in 0..<120 {
            var batch = RecordBatch()
            for _ in 0..<100 { try batch.append(key: nil, value: value) }
            let receipt = try await topic.append(batch, partition: 0)
            // A lookup of the newest batch: the reader refreshes from the writer as it reads.
            #expect(try readerPartition.readBatches(from: receipt.baseOffset, maxBytes: 1).first?.header.baseOffset == receipt.baseOffset, "round \(round)")
            let count = readerPartition.lock.withLock { readerPartition.activeFiles.offsetIndex.file.entryCount }
            if count != last { refreshes += 1 }
            #expect(count >= last)
            last = count
        }
        #expect(refreshes >= 2)
        // The same entries as a fresh copy taken with the same limit.
        let (files, end) = readerPartition.lock.withLock { (readerPartition.activeFiles, readerPartition.readerIndexedPosition) }
        let segment = try #require(readerPartition.lock.withLock { readerPartition.segments.last })
        let limitOffset = files.offsetIndex.file.withEntries { base, count -> Int64 in
            guard let base, count > 0 else { return 0 }
            return segment.baseOffset + Int64(BigEndian.load(UInt32.self, base, (count - 1) * OffsetIndex.entryBytes)) + 1
        }
        let fresh = try ReaderSegmentFiles.open(
            logPath: segment.logPath, offsetIndexPath: segment.offsetIndexPath, timeIndexPath: segment.timeIndexPath, baseOffset: segment.baseOffset,
            limit: (limitOffset, end), fileSystem: PosixFileSystem.shared)
        func entries(_ file: IndexFile) -> [UInt8] {
            file.withEntries { base, count in base.map { Array(UnsafeRawBufferPointer(start: $0, count: count * file.entryBytes)) } ?? [] }
        }
        #expect(entries(files.offsetIndex.file) == entries(fresh.offsetIndex.file))
        #expect(files.offsetIndex.file.entryCount > 50)
        #expect(entries(files.timeIndex.file).count == files.timeIndex.file.entryCount * TimeIndex.entryBytes)
        try reader.close()
    }
}
