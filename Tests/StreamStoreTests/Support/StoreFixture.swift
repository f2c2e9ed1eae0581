import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// A temporary store folder with small verbs for storage tests: open, append, read everything,
/// damage files, reopen. Going away it closes the store and removes the folder; it checks
/// nothing then (a test that damaged files on purpose may leave them damaged): tests call
/// ``expectConsistent(sourceLocation:)`` where consistency is what they promise.
final class StoreFixture {
    let path: String
    var store: Store?
    var clock: ManualClock

    init(clock: ManualClock = ManualClock(start: 1_764_410_400_000)) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-tests", isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.appendingPathComponent(UUID().uuidString).path
        self.clock = clock
    }

    deinit {
        try? store?.close()
        store = nil
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    func open() throws -> Store {
        let opened = try Store.open(at: path, options: Store.Options(clock: clock))
        store = opened
        return opened
    }

    /// Closes cleanly (if open) and opens again.
    @discardableResult
    func reopen() throws -> Store {
        try store?.close()
        store = nil
        return try open()
    }

    /// Drops the store without closing it, as a crash would (the lock goes with the descriptor).
    func crash() {
        store = nil
    }

    @discardableResult
    func crashAndReopen() throws -> Store {
        crash()
        return try open()
    }

    func topic(_ name: String = "events", config: TopicConfig = TopicConfig(flush: .never)) throws -> Topic {
        let store = try store ?? open()
        return try store.createTopic(name, config: config)
    }

    /// Appends `count` records "value-N" in batches of `batchSize`.
    @discardableResult
    func append(_ topic: Topic, count: Int, batchSize: Int = 100, partition: Int = 0, prefix: String = "value-", first: Int = 0) async throws -> [AppendReceipt] {
        var receipts: [AppendReceipt] = []
        var batch = RecordBatch()
        for index in first..<(first + count) {
            try batch.append(key: Array("key-\(index)".utf8), value: Array("\(prefix)\(index)".utf8))
            if batch.count == batchSize {
                receipts.append(try await topic.append(batch, partition: partition))
                batch.removeAll()
            }
        }
        if !batch.isEmpty { receipts.append(try await topic.append(batch, partition: partition)) }
        return receipts
    }

    /// Every record of a partition from its log start.
    func readAll(_ topic: Topic, partition: Int = 0, maxBytes: Int = 64 * 1024) throws -> [StoredRecord] {
        var offset = try topic.logStartOffset(partition: partition)
        var result: [StoredRecord] = []
        while true {
            let records = try topic.read(partition: partition, from: offset, maxBytes: maxBytes)
            guard let last = records.last else { return result }
            result += records
            offset = last.offset + 1
        }
    }

    func partitionFolder(_ topic: String = "events", partition: Int = 0) -> String {
        "\(path)/\(topic)/\(partition)"
    }

    func segmentFiles(_ topic: String = "events", partition: Int = 0, suffix: String = ".log") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: partitionFolder(topic, partition: partition))
            .filter { $0.hasSuffix(suffix) }.sorted().map { partitionFolder(topic, partition: partition) + "/" + $0 }
    }

    func flipByte(at position: Int, in file: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(position))
        let byte = try handle.read(upToCount: 1) ?? Data([0])
        try handle.seek(toOffset: UInt64(position))
        try handle.write(contentsOf: Data([byte[0] ^ 0x40]))
    }

    func truncate(_ file: String, byteCount: Int) throws {
        let size = try fileSize(file)
        try truncate(file, toSize: size - byteCount)
    }

    func truncate(_ file: String, toSize size: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(size))
    }

    func appendBytes(_ bytes: [UInt8], to file: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
    }

    func fileSize(_ file: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Asserts every partition of every topic verifies clean. A fixture without an open store is
    /// a failure: nothing could be checked.
    func expectConsistent(sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let store else {
            Issue.record("expectConsistent with no store open: nothing was checked", sourceLocation: sourceLocation)
            return
        }
        for name in store.topicNames {
            let topic = try store.topic(name)
            for partition in 0..<topic.partitionCount {
                for report in try topic.verify(partition: partition) {
                    #expect(report.problems.isEmpty, "\(report.path): \(report.problems)", sourceLocation: sourceLocation)
                }
            }
        }
    }
}

func values(_ records: [StoredRecord]) -> [String] {
    records.map { $0.valueString ?? "<null>" }
}
