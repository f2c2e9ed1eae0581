import StreamStoreFormat
/// Every name the store writes on disk, in one place (docs/FORMAT.md, "Files and folders").
///
/// ```
/// <store>/store.lock            exclusive flock while a process has the store open
/// <store>/store.json            format version and creation time
/// <store>/clean-shutdown        present only between a clean close and the next open
/// <store>/<topic>/topic.json    topic config
/// <store>/<topic>/<partition>/<base offset, 20 digits>.log|.index|.timeindex
/// <store>/<topic>/<partition>/<base offset, 20 digits>.cfilter   correlation ids of a sealed segment
/// <store>/<topic>/<partition>/checkpoints   log start offset and recovery point
/// <store>/<topic>/<partition>/producers     idempotent-producer state snapshot
/// <store>/__groups/<group>.offsets         a consumer group's committed offsets
/// <store>/__groups/<group>.lock            flock guarding them between processes
/// <store>/__groups/<group>.members/<topic>/<member id>.member   flock held by a live member
/// <store>/__groups/<group>.members/<topic>/<partition>.lease    flock held by the partition's owner
/// <store>/__snapshots/<projection>/<sequence>.snapshot   projection snapshots
/// <store>/__producers.json                 idempotent producers' ids and epochs handed out
/// ```
package enum FileNames {
    package static let lock = "store.lock"
    package static let storeManifest = "store.json"
    package static let cleanShutdown = "clean-shutdown"
    package static let topicConfig = "topic.json"
    static let checkpoints = "checkpoints"
    /// A partition's idempotent-producer state as of an offset (docs/FORMAT.md, "Producer state").
    static let producerState = "producers"
    /// A partition's published end, shared with reader processes (docs/FORMAT.md, "Live files").
    package static let publishedEnd = "published"
    /// The store's live file: the writer's pid and generation and the word readers wait on.
    package static let live = "live"
    package static let logSuffix = ".log"
    package static let offsetIndexSuffix = ".index"
    package static let timeIndexSuffix = ".timeindex"
    /// A sealed segment's Bloom filter of correlation ids (docs/FORMAT.md, "Correlation filter").
    static let correlationFilterSuffix = ".cfilter"
    /// A file being written before it is renamed into place; leftovers are deleted on open.
    package static let temporarySuffix = ".tmp"
    /// A segment file whose deletion has started; finished on open.
    static let deletedSuffix = ".deleted"
    /// Names that start with this are the store's own, never topics.
    package static let internalPrefix = "__"
    /// The folder of consumer group offsets: `<store>/__groups/<group>.offsets`.
    package static let groupsFolder = "__groups"
    package static let groupOffsetsSuffix = ".offsets"
    /// `<group>.lock`: taken shared to read a group's offsets, exclusively to write them.
    package static let groupLockSuffix = ".lock"
    /// `<group>.members/<topic>/`: the members consuming the topic and its partitions' leases.
    package static let groupMembersSuffix = ".members"
    package static let memberSuffix = ".member"
    /// A member file being made: locked, then renamed to `<id>.member`.
    package static let joiningMemberSuffix = ".joining"
    package static let leaseSuffix = ".lease"
    /// The folder of projection snapshots: `<store>/__snapshots/<projection>/`.
    package static let snapshotsFolder = "__snapshots"
    /// The producer ids and epochs the store has handed out (docs/FORMAT.md, "Producer ids").
    package static let producerIds = "__producers.json"
    /// The Kafka module's own files in a store: mirrors' states, and the server's old producer ids.
    package static let kafkaFolder = "__kafka"
    /// Where the Kafka server kept the next free producer id before the store handed them out;
    /// read once as a lower bound, so no id is ever given twice.
    package static let legacyKafkaProducerIds = kafkaFolder + "/producer-ids"

    package static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    package static func partitionFolder(topicFolder: String, partition: Int) -> String {
        join(topicFolder, String(partition))
    }

    /// The base offset as 20 zero-padded digits, as Kafka names segments.
    package static func segmentStem(baseOffset: Int64) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    static func logFile(folder: String, baseOffset: Int64) -> String {
        join(folder, segmentStem(baseOffset: baseOffset) + logSuffix)
    }

    static func offsetIndexFile(folder: String, baseOffset: Int64) -> String {
        join(folder, segmentStem(baseOffset: baseOffset) + offsetIndexSuffix)
    }

    static func timeIndexFile(folder: String, baseOffset: Int64) -> String {
        join(folder, segmentStem(baseOffset: baseOffset) + timeIndexSuffix)
    }

    static func correlationFilterFile(folder: String, baseOffset: Int64) -> String {
        join(folder, segmentStem(baseOffset: baseOffset) + correlationFilterSuffix)
    }

    /// The base offset in a segment file name, or nil when the name is not a segment's.
    package static func baseOffset(ofSegmentFile name: String, suffix: String = logSuffix) -> Int64? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count == 20, stem.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
        return Int64(stem)
    }

    /// Names in the store folder that belong to the store itself, never to a topic.
    static let reservedInStoreFolder: Set<String> = [lock, storeManifest, cleanShutdown, live]

    /// Kafka's rule for topic names: `[a-zA-Z0-9._-]`, 1 to 249 characters, not `.` or `..`,
    /// and not one of the store's own file names. This also keeps every name safe as a folder.
    package static func isValidTopicName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= Limits.maxTopicNameBytes, name != ".", name != "..",
            !reservedInStoreFolder.contains(name), !name.hasSuffix(temporarySuffix)
        else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }
}
