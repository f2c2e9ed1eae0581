import Foundation
import StreamStoreFormat
import StreamStoreLog

/// What a mirror keeps between runs, in `<store>/__kafka/mirror-<direction>-<name>.json`,
/// replaced atomically: where each partition's copy began on each side, and the idempotent
/// producer it writes to the cluster with. docs/SCALING.md, "Exactly once", says why.
///
/// Records are copied in order, whole, and the mirror is the only writer of the copy, so the
/// copy of a partition is always `source[sourceOrigin ..< sourceOrigin + n]` laid at
/// `target[targetOrigin ..< targetOrigin + n]`: the target's log end alone tells how far the
/// copy got, whatever was acknowledged or committed before a crash. An anchor is written
/// (durably) before the first record that relies on it, and moved when the source skips
/// offsets (a compacted or transactional Kafka topic), so that the mapping stays linear.
struct MirrorState: Codable, Equatable {
    struct Anchor: Codable, Equatable {
        /// A source offset and the target offset its record was (or will be) written at.
        var sourceOffset: Int64
        var targetOffset: Int64
        /// The source offset whose record carries sequence 0 of ``MirrorState/producerId``
        /// (mirrors to a cluster only).
        var sequenceOrigin: Int64?

        /// The source offset the copy continues from, when the target's log ends at `targetEnd`.
        func resumeOffset(targetEnd: Int64) -> Int64 { sourceOffset + (targetEnd - targetOffset) }
    }

    static let currentVersion = 1
    var version = MirrorState.currentVersion
    /// The cluster's idempotent producer id and epoch (mirrors to a cluster), reused across
    /// runs so that a batch a killed run left in flight and its resend are one and the same to
    /// the broker.
    var producerId: Int64?
    var producerEpoch: Int16?
    /// By `topic/partition`.
    var anchors: [String: Anchor] = [:]

    static func key(topic: String, partition: Int) -> String { "\(topic)/\(partition)" }
}

/// Reads and replaces one mirror's state file.
struct MirrorStateFile: Sendable {
    let path: String
    let folder: String
    private let storePath: String
    private let directory = Directory(fileSystem: PosixFileSystem.shared)

    init(storePath: String, direction: String, name: String) {
        self.storePath = storePath
        folder = FileNames.join(storePath, FileNames.kafkaFolder)
        path = FileNames.join(folder, "mirror-\(direction)-\(name).json")
    }

    /// The saved state, or a fresh one when the mirror never ran.
    func load() throws(StreamStoreError) -> MirrorState {
        guard let bytes = try directory.readWhole(path, limitBytes: Limits.maxMirrorStateBytes) else { return MirrorState() }
        let state: MirrorState
        do {
            state = try JSONDecoder().decode(MirrorState.self, from: Data(bytes))
        } catch {
            throw StreamStoreError(.corruptManifest, "The mirror's state file is not valid: \(error). Remove it only together with the mirrored topics on the target.", path: path)
        }
        guard state.version <= MirrorState.currentVersion else {
            throw StreamStoreError(.unsupportedFormatVersion, "The mirror's state file has version \(state.version); this build reads up to \(MirrorState.currentVersion).", path: path)
        }
        return state
    }

    /// Replaces the file (write, fsync, rename, fsync the folder): the state is durable when
    /// this returns.
    func save(_ state: MirrorState) throws(StreamStoreError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(state)) + [0x0A]
        } catch {
            throw StreamStoreError(.invalidConfig, "Could not encode the mirror's state: \(error).", path: path)
        }
        if !directory.exists(folder) {
            try directory.create(folder)
            try directory.sync(storePath)
        }
        try directory.writeAtomically(bytes, to: path, folder: folder)
    }
}
