import StreamStore
import StreamStoreFormat
import StreamStoreLog
/// The path of one of a segment's three files, understood from its name (docs/FORMAT.md,
/// section 1): `<base offset, 20 digits>.log`, `.index` or `.timeindex`.
///
/// Inspection tools (`stream-tool dump`) work on single files, possibly copied out of their
/// store; this type finds a file's siblings and, when the file still sits in its store, the
/// config of its topic, without opening the store.
package struct SegmentFilePath: Sendable, Equatable {
    /// Which file of a segment a path names.
    package enum Kind: String, Sendable, CaseIterable {
        /// `.log`: Kafka RecordBatch v2 batches.
        case log
        /// `.index`: the sparse offset index.
        case offsetIndex
        /// `.timeindex`: the sparse time index.
        case timeIndex

        /// The file name suffix, dot included.
        package var suffix: String {
            switch self {
            case .log: return FileNames.logSuffix
            case .offsetIndex: return FileNames.offsetIndexSuffix
            case .timeIndex: return FileNames.timeIndexSuffix
            }
        }

        /// The kind whose suffix `path` ends with, or nil.
        package init?(path: String) {
            guard let kind = Kind.allCases.first(where: { path.hasSuffix($0.suffix) }) else { return nil }
            self = kind
        }
    }

    /// The path as given.
    package let path: String
    /// Which of the segment's files this is.
    package let kind: Kind
    /// The base offset the file name gives: the offset of the segment's first batch.
    package let baseOffset: Int64

    /// Nil when the last component of `path` is not 20 decimal digits and a segment suffix.
    package init?(_ path: String) {
        guard let kind = Kind(path: path) else { return nil }
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        guard let baseOffset = FileNames.baseOffset(ofSegmentFile: name, suffix: kind.suffix) else { return nil }
        self.path = path
        self.kind = kind
        self.baseOffset = baseOffset
    }

    /// The folder holding the file (its partition folder when it sits in a store).
    package var folder: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The path of the segment's file of `kind`, next to this one.
    package func sibling(_ kind: Kind) -> String {
        FileNames.join(folder, FileNames.segmentStem(baseOffset: baseOffset) + kind.suffix)
    }

    /// True when the folder holds a `.log` with a greater base offset: this segment is then
    /// sealed (its time index ends with a final entry), else it is the active one.
    package var hasLaterSegment: Bool {
        let names = PosixFileSystem.shared.listDirectory(folder) ?? []
        return names.contains { name in (FileNames.baseOffset(ofSegmentFile: name) ?? Int64.min) > baseOffset }
    }

    /// The config of the file's topic, from the `topic.json` one folder above the partition
    /// folder; nil when the file is not inside a topic (copied elsewhere) or the file is unreadable.
    package func topicConfig() -> TopicConfig? {
        let topicFolder = FileNames.join(folder, "..")
        let manifestPath = FileNames.join(topicFolder, FileNames.topicConfig)
        let directory = Directory(fileSystem: PosixFileSystem.shared)
        guard let bytes = try? directory.readWhole(manifestPath, limitBytes: Limits.maxManifestBytes),
            let manifest = try? JSONFiles.decode(TopicManifest.self, from: bytes, path: manifestPath)
        else { return nil }
        return manifest.config
    }
}
