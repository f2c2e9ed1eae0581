#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StreamStore

/// A small store built through the public API, then held in memory: the starting point of the
/// store-level targets (put back before every input) and of the seed corpus (its real files).
///
/// Everything in it is deterministic (create-time timestamps, fixed contents), so the same
/// build gives the same bytes on every machine and run.
public struct SeedStore: Sendable {
    public static let topic = "t"

    public let path: String
    /// Every file of the store after a clean close.
    public let snapshot: FolderSnapshot
    /// Every record of partition 0, as read back before the close.
    public let records: [StoredRecord]
    /// Base offsets of the segments of partition 0, oldest first.
    public let segmentBases: [Int64]

    /// The folder of partition 0.
    public var partitionFolder: String { path + "/" + SeedStore.topic + "/0" }

    /// Builds a store at `path` (replacing whatever is there) with one topic of one partition,
    /// appends `batches` in order, reads everything back and closes it cleanly.
    public static func build(at path: String, config: TopicConfig, batches: [[Record]]) throws(StreamStoreError) -> SeedStore {
        removeTree(path)
        PosixFiles.makeFolders(path)
        let store = try Store.open(at: path)
        let topic = try store.createTopic(topic, config: config)
        for records in batches {
            _ = try runBlocking { () async throws(StreamStoreError) in try await topic.append(records, partition: 0) }
        }
        let records = try readAll(topic)
        try store.close()
        let folder = path + "/" + SeedStore.topic + "/0"
        let bases = PosixFiles.list(folder).compactMap(baseOffset(ofLogFile:)).sorted()
        return SeedStore(path: path, snapshot: FolderSnapshot(of: path), records: records, segmentBases: bases)
    }

    /// Every record of partition 0 from its log start, read in small steps.
    public static func readAll(_ topic: Topic, maxBytes: Int = 1 << 20) throws(StreamStoreError) -> [StoredRecord] {
        var offset = try topic.logStartOffset(partition: 0)
        var records: [StoredRecord] = []
        while true {
            let batch = try topic.read(partition: 0, from: offset, maxBytes: maxBytes)
            guard let last = batch.last else { return records }
            records += batch
            offset = last.offset + 1
        }
    }

    /// `00000000000000000042.log` for base offset 42 (docs/FORMAT.md, "Files").
    public static func segmentFileName(baseOffset: Int64, suffix: String) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    static func baseOffset(ofLogFile name: String) -> Int64? {
        guard name.hasSuffix(".log"), name.utf8.count == 24 else { return nil }
        return Int64(name.dropLast(4))
    }

    private static func removeTree(_ path: String) {
        for name in PosixFiles.list(path) {
            let child = path + "/" + name
            if PosixFiles.isDirectory(child) { removeTree(child) } else { PosixFiles.remove(child) }
        }
        _ = rmdir(path)
    }
}
