import StreamStoreFormat
import Logging

/// What a segment and its indexes may use of the partition around them: the file system, the
/// store's open-file cache, the partition's logger, whether this process only reads the log, and
/// the index sizes. Nothing of the topic (its other settings, its name, the store's services) is
/// reachable from a segment.
package struct SegmentEnvironment: Sendable {
    let fileSystem: FileSystem
    /// Bounds how many sealed segments have their files open, store-wide.
    let cache: SegmentFileCache
    /// The partition's logger; its metadata names the topic and partition.
    let logger: Logger
    /// True in a reader process: a segment then changes no file (a doubtful index is not used,
    /// never rebuilt).
    let isReadOnly: Bool
    /// The index sizes as they are now, read afresh whenever a segment opens or rebuilds its
    /// indexes, so a changed setting applies from the next segment on.
    let currentIndexSizes: @Sendable () -> IndexSizes

    package init(
        fileSystem: FileSystem, cache: SegmentFileCache, logger: Logger, isReadOnly: Bool, currentIndexSizes: @escaping @Sendable () -> IndexSizes
    ) {
        self.fileSystem = fileSystem
        self.cache = cache
        self.logger = logger
        self.isReadOnly = isReadOnly
        self.currentIndexSizes = currentIndexSizes
    }
}

/// How dense a segment's indexes are and how large their files may grow.
package struct IndexSizes: Sendable, Equatable {
    /// Log bytes written between two offset-index entries (docs/FORMAT.md, section 5).
    package var intervalBytes: Int
    /// Largest size of one index file, which is how much of it is mapped.
    package var maxIndexBytes: Int

    package init(intervalBytes: Int, maxIndexBytes: Int) {
        self.intervalBytes = intervalBytes
        self.maxIndexBytes = maxIndexBytes
    }
}

extension LogConfig {
    /// The settings a segment's indexes are made with.
    package var indexSizes: IndexSizes { IndexSizes(intervalBytes: indexIntervalBytes, maxIndexBytes: maxIndexBytes) }
}
