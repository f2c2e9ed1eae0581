import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

@Suite(.timeLimit(.minutes(5))) struct StoreTests {
    @Test func appendedRecordsReadBackInOrderWithDenseOffsets() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let receipts = try await fixture.append(topic, count: 1_000, batchSize: 64)
        #expect(receipts.first?.baseOffset == 0)
        #expect(receipts.last?.lastOffset == 999)
        for (previous, next) in zip(receipts, receipts.dropFirst()) { #expect(next.baseOffset == previous.lastOffset + 1) }
        let records = try fixture.readAll(topic)
        #expect(records.map(\.offset) == Array(0..<1_000))
        #expect(values(records) == (0..<1_000).map { "value-\($0)" })
        #expect(records[5].keyString == "key-5")
        #expect(try topic.logEndOffset(partition: 0) == 1_000)
        try fixture.expectConsistent()
    }

    @Test func readFromTheMiddleOfABatchStartsAtThatOffset() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 300, batchSize: 100)
        let records = try topic.read(partition: 0, from: 150, maxBytes: 1)
        #expect(records.first?.offset == 150)
        #expect(records.last?.offset == 199, "a byte budget of 1 still returns one whole batch")
    }

    @Test func readsOutsideTheLogAreOutOfRange() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 10)
        #expect(try topic.read(partition: 0, from: 10).isEmpty)
        expectStoreError(.offsetOutOfRange, mentioning: "Offset 11") { _ = try topic.read(partition: 0, from: 11) }
        expectStoreError(.offsetOutOfRange, mentioning: "Offset -1") { _ = try topic.read(partition: 0, from: -1) }
        do {
            _ = try topic.read(partition: 3, from: 0)
            Issue.record("partition 3 of a 1-partition topic must fail")
        } catch {
            #expect(error.code == .partitionOutOfRange)
        }
    }

    @Test func segmentsRollAtSegmentBytesAndReadAcrossThem() async throws {
        let fixture = try StoreFixture()
        let config = TopicConfig(segmentBytes: 8 * 1024, indexIntervalBytes: 512, flush: .never)
        let topic = try fixture.topic(config: config)
        try await fixture.append(topic, count: 2_000, batchSize: 20)
        let logs = try fixture.segmentFiles()
        #expect(logs.count > 5)
        for log in logs { #expect(try fixture.fileSize(log) <= 8 * 1024) }
        #expect(values(try fixture.readAll(topic, maxBytes: 3_000)) == (0..<2_000).map { "value-\($0)" })
        // Sealed segments' indexes are trimmed to whole entries.
        for index in try fixture.segmentFiles(suffix: ".index").dropLast() { #expect(try fixture.fileSize(index) % 8 == 0) }
        for index in try fixture.segmentFiles(suffix: ".timeindex").dropLast() { #expect(try fixture.fileSize(index) % 12 == 0) }
        try fixture.expectConsistent()
        let reopened = try fixture.reopen().topic("events")
        #expect(values(try fixture.readAll(reopened)) == (0..<2_000).map { "value-\($0)" })
        for offset in stride(from: 0, to: 2_000, by: 37) {
            #expect(try reopened.read(partition: 0, from: Int64(offset), maxBytes: 1).first?.offset == Int64(offset))
        }
    }

    @Test func sealedSegmentsKeepABoundedNumberOfFilesOpen() async throws {
        let fixture = try StoreFixture()
        do {
            let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never))
            try await fixture.append(topic, count: 3_000, batchSize: 20)
            try fixture.store?.close()
            fixture.store = nil
        }
        let store = try Store.open(at: fixture.path, options: .init(clock: fixture.clock, openSegmentFilesLimit: 4, usesCorrelationFilters: false))
        fixture.store = store
        let reopened = try store.topic("events")
        let segmentCount = try fixture.segmentFiles().count
        #expect(segmentCount > 20)
        #expect(values(try fixture.readAll(reopened, maxBytes: 2048)) == (0..<3_000).map { "value-\($0)" })
        #expect(reopened.partitions[0].context.cache.openCount <= 4)
        // Descriptors into this store: the lock, the active segment's three files, and three for
        // each of at most 4 open sealed segments (other tests run in parallel, so count only ours).
        // Correlation filters are off: a writer builds missing ones in the background on open,
        // through descriptors of its own that are not the cache's to bound.
        let ours = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { descriptor in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)"))?.hasPrefix(fixture.path) == true
        }
        let bound = 1 + 3 + 4 * 3
        let targets = ours.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
        #expect(ours.count <= bound, "\(ours.count) descriptors open in the store: \(targets.sorted())")
    }

    @Test func segmentRollsWhenAnIndexIsFull() async throws {
        let fixture = try StoreFixture()
        // An offset entry before every batch but a segment's first, and room for 12 (96 / 8) of
        // which one is kept in reserve: 12 batches a segment. (The clock stands still, so the
        // time index gets one entry a segment and is never the one that fills.)
        let topic = try fixture.topic(config: TopicConfig(indexIntervalBytes: 1, maxIndexBytes: 96, flush: .never))
        try await fixture.append(topic, count: 70, batchSize: 1)
        #expect(try fixture.segmentFiles().count == 6)
        for index in try fixture.segmentFiles(suffix: ".index").dropLast() { #expect(try fixture.fileSize(index) == 88) }
        #expect(values(try fixture.readAll(topic)) == (0..<70).map { "value-\($0)" })
        try fixture.expectConsistent()
    }

    @Test func segmentRollsWhenOlderThanSegmentMilliseconds() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentMilliseconds: 60_000, flush: .never))
        try await fixture.append(topic, count: 10)
        fixture.clock.advance(milliseconds: 59_000)
        try await fixture.append(topic, count: 10, first: 10)
        #expect(try fixture.segmentFiles().count == 1)
        fixture.clock.advance(milliseconds: 1_000)
        try await fixture.append(topic, count: 10, first: 20)
        #expect(try fixture.segmentFiles().count == 2)
        #expect(values(try fixture.readAll(topic)) == (0..<30).map { "value-\($0)" })
    }

    @Test func cleanReopenSkipsRecoveryAndContinuesOffsets() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never))
        try await fixture.append(topic, count: 500, batchSize: 25)
        let store = try fixture.reopen()
        #expect(store.openedCleanly)
        #expect(store.recoveries.isEmpty)
        let again = try store.topic("events")
        #expect(try again.logEndOffset(partition: 0) == 500)
        let receipt = try await fixture.append(again, count: 5, first: 500)
        #expect(receipt.first?.baseOffset == 500)
        #expect(values(try fixture.readAll(again)) == (0..<505).map { "value-\($0)" })
        try fixture.expectConsistent()
    }

    @Test func secondOpenerIsRefusedWhileTheStoreIsOpen() throws {
        let fixture = try StoreFixture()
        try fixture.open()
        do {
            _ = try Store.open(at: fixture.path)
            Issue.record("a second open must fail")
        } catch {
            #expect(error.code == .storeLocked)
        }
        // close() releases the lock even while the Store object is still referenced.
        try fixture.store?.close()
        #expect(throws: Never.self) { _ = try Store.open(at: fixture.path) }
        fixture.store = nil
    }

    @Test func aFolderWithOtherFilesIsNotAStore() throws {
        let fixture = try StoreFixture()
        try FileManager.default.createDirectory(atPath: fixture.path, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: fixture.path + "/notes.txt", contents: Data("hello".utf8)))
        do {
            _ = try Store.open(at: fixture.path)
            Issue.record("must refuse")
        } catch {
            #expect(error.code == .notAStore)
        }
        do {
            _ = try Store.open(at: fixture.path + "/missing", options: .init(createIfMissing: false))
            Issue.record("must refuse")
        } catch {
            #expect(error.code == .notAStore)
        }
    }

    @Test func topicNamesThatCouldEscapeTheFolderAreRejected() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        for name in ["", ".", "..", "a/b", "../x", "tab\tname", String(repeating: "x", count: 250), "__internal", "ü", "store.json", "store.lock", "clean-shutdown", "x.tmp"] {
            expectStoreError(.invalidTopicName) { _ = try store.createTopic(name) }
        }
        _ = try store.createTopic("orders.v1_x-y", config: TopicConfig(partitionCount: 2))
        #expect(try store.createTopic("orders.v1_x-y", config: TopicConfig(partitionCount: 2)).partitionCount == 2)
        do {
            _ = try store.createTopic("orders.v1_x-y", config: TopicConfig(partitionCount: 3))
            Issue.record("a different config must be refused")
        } catch {
            #expect(error.code == .topicExists)
        }
        do {
            _ = try store.topic("nope")
            Issue.record("unknown topic")
        } catch {
            #expect(error.code == .unknownTopic)
        }
    }

    @Test func topicsAndConfigsSurviveReopen() throws {
        let fixture = try StoreFixture()
        let config = TopicConfig(partitionCount: 3, segmentBytes: 1 << 20, flush: .interval(milliseconds: 50))
        _ = try fixture.open().createTopic("orders", config: config)
        let store = try fixture.reopen()
        #expect(store.topicNames == ["orders"])
        #expect(try store.topic("orders").config == config)
    }

    @Test func keyedRecordsLandOnKafkasPartitions() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("orders", config: TopicConfig(partitionCount: 8, flush: .never))
        let receipts = try await topic.append([Record(key: "customer-17", value: "x"), Record(key: "a", value: "y")])
        #expect(Set(receipts.map(\.partition)) == [0, 4])
        #expect(try topic.read(partition: 4, from: 0).first?.valueString == "y")
    }

    @Test func keylessAppendsSpreadOverPartitions() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic("spread", config: TopicConfig(partitionCount: 4, flush: .never))
        var used = Set<Int>()
        for _ in 0..<8 { used.formUnion(try await topic.append([Record(value: "v")]).map(\.partition)) }
        #expect(used == [0, 1, 2, 3])
    }

    @Test func appendTimeIsStampedByTheStoreClock() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let receipt = try await topic.append([Record(value: "a"), Record(value: "b")], partition: 0)
        #expect(receipt.timestamp == fixture.clock.nowMilliseconds())
        #expect(try topic.read(partition: 0, from: 0).map(\.timestamp) == [receipt.timestamp, receipt.timestamp])
    }

    @Test func timestampsTooFarInTheFutureAreRejectedAndNothingIsWritten() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let now = fixture.clock.nowMilliseconds()
        await expectStoreError(.timestampInFuture) {
            _ = try await topic.append([Record(value: "late", timestamp: now + 3_600_001)], partition: 0)
        }
        #expect(try topic.logEndOffset(partition: 0) == 0)
        let accepted = try await topic.append([Record(value: "ok", timestamp: now + 3_600_000)], partition: 0)
        #expect(accepted.timestamp == now + 3_600_000)
    }

    @Test func timestampLookupFindsTheFirstRecordWhoseRunningMaximumReachesIt() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, indexIntervalBytes: 256, flush: .never))
        // Create times out of order: 1000, 900, 1100, 1050, 1200, ... by batches of 4.
        let base: Int64 = 1_764_400_000_000
        var expected: [Int64] = []
        for batchIndex in 0..<200 {
            var batch = RecordBatch()
            for step in 0..<4 {
                let timestamp = base + Int64(batchIndex * 100) + [0, -100, 100, 50][step]
                expected.append(timestamp)
                try batch.append(key: nil, value: Array("v".utf8), timestamp: timestamp)
            }
            _ = try await topic.append(batch, partition: 0)
        }
        var runningMax = Int64.min
        let runningMaxima = expected.map { value -> Int64 in
            runningMax = max(runningMax, value)
            return runningMax
        }
        for target in stride(from: base - 200, to: base + 20_200, by: 37) {
            let want = runningMaxima.firstIndex { $0 >= target }.map(Int64.init) ?? Int64(expected.count)
            #expect(try topic.offset(partition: 0, for: .timestamp(target)) == want, "target \(target)")
        }
        let reopened = try fixture.reopen().topic("events")
        #expect(try reopened.offset(partition: 0, for: .timestamp(base + 10_000)) == runningMaxima.firstIndex { $0 >= base + 10_000 }.map(Int64.init))
    }

    @Test func oversizedRecordIsRefusedBeforeAnythingIsWritten() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let huge = [UInt8](repeating: 7, count: Limits.maxRecordBytes + 1)
        do {
            _ = try await topic.append([Record(value: huge)], partition: 0)
            Issue.record("must be refused")
        } catch {
            #expect(error.code == .recordTooLarge)
        }
        #expect(try topic.logEndOffset(partition: 0) == 0)
    }

    @Test func startPositionsResolveToOffsets() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 42)
        #expect(try topic.offset(partition: 0, for: .beginning) == 0)
        #expect(try topic.offset(partition: 0, for: .end) == 42)
        #expect(try topic.offset(partition: 0, for: .offset(7)) == 7)
        #expect(try topic.offset(partition: 0, for: .timestamp(0)) == 0)
        #expect(try topic.offset(partition: 0, for: .timestamp(Int64.max)) == 42)
        #expect(try topic.offset(partition: 0, for: .offset(42)) == 42, "the log end is where a read may start")
    }

    @Test func anOffsetOutsideTheLogIsOutOfRangeAsAReadFromItIs() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 2)
        for offset: Int64 in [100, 3, -5] {
            let resolved = #expect(throws: StreamStoreError.self) { try topic.offset(partition: 0, for: .offset(offset)) }
            let read = #expect(throws: StreamStoreError.self) { try topic.read(partition: 0, from: offset) }
            #expect(resolved?.code == .offsetOutOfRange, "offset \(offset)")
            #expect(resolved == read, "offset \(offset): the same error as the read")
        }
    }

    @Test func aStoreUnderMissingFoldersCreatesThem() throws {
        let fixture = try StoreFixture()
        let nested = fixture.path + "/var/lib/orders/events"
        let store = try Store.open(at: nested)
        _ = try store.createTopic("orders")
        try store.close()
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: nested + "/orders", isDirectory: &isFolder) && isFolder.boolValue)
        // Without createIfMissing nothing is made.
        let refused = #expect(throws: StreamStoreError.self) {
            try Store.open(at: fixture.path + "/other/events", options: Store.Options(createIfMissing: false))
        }
        #expect(refused?.code == .notAStore)
        #expect(!FileManager.default.fileExists(atPath: fixture.path + "/other"))
    }

    @Test func aRegularFileIsNotAStoreNamingThePathGiven() throws {
        let fixture = try StoreFixture()
        try FileManager.default.createDirectory(atPath: fixture.path, withIntermediateDirectories: true)
        let file = fixture.path + "/notes.txt"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("notes".utf8)))
        for options in [Store.Options(), Store.Options(mode: .readOnly)] {
            let error = #expect(throws: StreamStoreError.self) { try Store.open(at: file, options: options) }
            #expect(error?.code == .notAStore)
            #expect(error?.path == file)
            #expect(error?.message.contains("store.lock") == false)
            #expect(error?.message.hasPrefix("\(file) is a file") == true)
        }
        // A folder below a file cannot be made: the file is named too.
        let below = #expect(throws: StreamStoreError.self) { try Store.open(at: file + "/events") }
        #expect(below?.code == .io(errno: ENOTDIR))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "notes", "the file is left alone")
    }

    @Test func describeReportsOffsetsSegmentsAndTimestamps() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never))
        try await fixture.append(topic, count: 300, batchSize: 10)
        let info = try topic.info(partition: 0)
        #expect(info.logStartOffset == 0)
        #expect(info.logEndOffset == 300)
        #expect(info.segmentCount == (try fixture.segmentFiles().count))
        #expect(info.logBytes == (try fixture.segmentFiles().reduce(0) { $0 + Int64(try fixture.fileSize($1)) }))
        #expect(info.firstTimestamp == fixture.clock.nowMilliseconds())
        #expect(info.lastTimestamp == fixture.clock.nowMilliseconds())
    }

    /// Every descriptor the store opens is close-on-exec, even through a file system in the
    /// seam that does not add the flag itself: a child process spawned by the embedding service
    /// must not inherit them, or an inherited `store.lock` keeps the store locked after it is gone.
    @Test func theStoresDescriptorsAreCloseOnExec() async throws {
        let fixture = try StoreFixture()
        var options = Store.Options(clock: fixture.clock)
        options.fileSystem = PlainOpenFileSystem()
        fixture.store = try Store.open(at: fixture.path, options: options)
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 10)
        let folder = URL(fileURLWithPath: fixture.path).resolvingSymlinksInPath().path
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            guard let fd = Int32(name),
                let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
                target.hasPrefix(folder)
            else { continue }
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0, "\(target) is inherited by child processes")
            checked += 1
        }
        #expect(checked >= 4, "the store's lock, log and index descriptors were found")
    }
}

/// The real file system, except that `open` passes the caller's flags through untouched (the
/// production seam adds O_CLOEXEC itself), so a test sees what the engine asks for.
final class PlainOpenFileSystem: ForwardingFileSystem, @unchecked Sendable {
    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 { Glibc.open(path, flags, mode) }
}
