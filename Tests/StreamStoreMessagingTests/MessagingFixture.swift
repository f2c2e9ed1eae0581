import Foundation
import StreamStore
import StreamStoreMessaging

/// A temporary folder with a store, and small verbs: make a command topic, read a topic back,
/// reopen the store.
final class MessagingFixture: @unchecked Sendable {
    let folder: String
    var storePath: String { folder + "/store" }
    var store: Store

    /// A store in a new folder; `clock` stamps its records (the system clock unless given).
    init(clock: any StoreClock = SystemClock()) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-messaging-tests", isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        folder = base.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        store = try Store.open(at: folder + "/store", options: Store.Options(clock: clock))
    }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A topic with a de-duplication window.
    @discardableResult
    func topic(_ name: String, partitions: Int = 1, flush: FlushPolicy = .everyAppend) throws -> Topic {
        try store.createTopic(name, config: TopicConfig(partitionCount: partitions, flush: flush, dedupeWindowMilliseconds: 3_600_000))
    }

    /// Every record of every partition of `topic`, partition by partition.
    func records(_ topic: String) throws -> [StoredRecord] {
        let handle = try store.topic(topic)
        var all: [StoredRecord] = []
        for partition in 0..<handle.partitionCount {
            var offset = try handle.logStartOffset(partition: partition)
            let end = try handle.logEndOffset(partition: partition)
            while offset < end {
                let records = try handle.read(partition: partition, from: offset)
                guard let last = records.last else { break }
                all += records
                offset = last.offset + 1
            }
        }
        return all
    }

    /// Closes the store and opens it again, as a restarted process would.
    func reopen() throws {
        try store.close()
        store = try Store.open(at: storePath)
    }
}

