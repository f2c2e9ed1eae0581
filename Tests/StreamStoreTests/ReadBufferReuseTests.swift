import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// A replay reads into the same buffers again and again (ReadBuffers): the records it handed
/// out must be let go before the next read, or every read copies the buffer first (measured:
/// 8% of a compressed replay in memmove, plus the page faults of the fresh memory). And a
/// reader of zstd batches reads about the log bytes its budget needs, not several times them.
@Suite(.timeLimit(.minutes(5))) struct ReadBufferReuseTests {
    @Test(arguments: [Compression.none, .zstd(level: 3)])
    func aRecordReplayNeverCopiesItsBuffers(compression: Compression) async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never, compression: compression))
        try await fixture.append(topic, count: 3_000, batchSize: 50)
        var iterator = topic.replay(options: ReplayOptions(maxBytesPerRead: 4096)).makeAsyncIterator()
        var offsets: [Int64] = []
        while let record = try await iterator.next() { offsets.append(record.offset) }
        #expect(offsets == Array(0..<3_000))
        let buffers = try #require(iterator.engine?.cursors.first?.buffers)
        #expect(buffers.copiedFills == 0)
    }

    @Test func aCallerThatKeepsRecordsStillGetsItsOwnBytes() async throws {
        // The other side of the reuse: records kept across reads stay intact (the buffer is
        // copied for them), which the counter reports.
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 400, batchSize: 20)
        let cursor = try PartitionCursor(partition: try topic.partition(0), start: .beginning, stop: nil, resetPolicy: .fail)
        var kept: [StoredRecord] = []
        while true {
            let batches = try cursor.read(maxBytes: 1024)
            if batches.isEmpty { break }
            for batch in batches { kept += try batch.storedRecords(from: 0) }
        }
        #expect(kept.map(\.valueString) == (0..<400).map { "value-\($0)" })
        #expect(cursor.buffers.copiedFills > 0)
    }

    @Test func aZstdReaderReadsAboutWhatItHandsOut() async throws {
        let fixture = try StoreFixture()
        let fileSystem = CountingFileSystem()
        let store = try fixture.open(through: fileSystem)
        let topic = try store.createTopic("events", config: TopicConfig(indexIntervalBytes: 256, flush: .never, compression: .zstd(level: 3)))
        // Compressible values: each batch is 100 records of about 200 plain bytes.
        let value = String(repeating: "order-placed ", count: 16)
        for _ in 0..<50 {
            _ = try await topic.append((0..<100).map { Record(key: "k\($0)", value: value) }, partition: 0)
        }
        let logPath = fixture.path + "/events/0/00000000000000000000.log"
        let logBytes = try #require(try FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int)
        fileSystem.resetCounts()
        var iterator = topic.replay(options: ReplayOptions(maxBytesPerRead: 64 * 1024)).makeAsyncIterator()
        var count = 0
        while try await iterator.next() != nil { count += 1 }
        #expect(count == 5_000)
        let buffers = try #require(iterator.engine?.cursors.first?.buffers)
        #expect(buffers.plainBytesPerLogByte > 5)
        // Each read of 64 KiB of records needs a few KiB of log (plus up to an index interval
        // before its start); reading the budget in log bytes every time, as before, would read
        // the whole log (it is smaller than one budget) on each of the 16 reads.
        #expect(fileSystem.readByteCount < 3 * logBytes)
    }
}
