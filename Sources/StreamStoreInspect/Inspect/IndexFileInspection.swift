import StreamStore
import StreamStoreFormat
import StreamStoreLog
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The entries of one `.index` or `.timeindex` file, read for inspection (`stream-tool dump`)
/// without opening the store, and what is wrong with them on their own (docs/FORMAT.md,
/// sections 5 and 6). ``check(againstLog:indexIntervalBytes:)`` compares them with their log.
///
/// The file is read whole with `pread` (an index is at most ``Limits/maxIndexBytes``), never
/// mapped. An active segment's index is preallocated and zero past its entries; those zeroed
/// slots are counted in ``preallocatedSlots``, not reported as entries.
package struct IndexFileInspection: Sendable {
    /// One entry, with its relative offset made absolute.
    package struct Entry: Sendable, Equatable {
        /// The offset as stored: relative to the segment's base offset.
        package var relativeOffset: UInt32
        /// `baseOffset + relativeOffset`.
        package var offset: Int64
        /// Offset index: where in the `.log` the batch with base offset ``offset`` starts.
        package var position: Int64?
        /// Time index: every record of the segment before ``offset`` has a timestamp at most this.
        package var timestamp: Int64?
    }

    /// The index file, and from its name the segment's base offset.
    package let file: SegmentFilePath
    /// The file's size.
    package let fileBytes: Int64
    /// The entries in file order, without the preallocated zeroed slots after them.
    package let entries: [Entry]
    /// Whole zeroed entries after the last entry: preallocated room of an active segment (or of
    /// one whose store did not close cleanly; the store rebuilds such an index when it opens).
    package let preallocatedSlots: Int
    /// Bytes after the last whole entry (a file size that is not a multiple of the entry size).
    package let trailingBytes: Int
    /// What fails the checks the store makes before trusting an index; empty when none does.
    package let problems: [String]

    /// Size of one entry of this kind of index.
    package var entryBytes: Int { Self.entryBytes(file.kind) }

    private static func entryBytes(_ kind: SegmentFilePath.Kind) -> Int {
        kind == .timeIndex ? TimeIndex.entryBytes : OffsetIndex.entryBytes
    }

    /// Reads the index file `file` names (`file.kind` must be an index).
    package init(file: SegmentFilePath) throws(StreamStoreError) {
        precondition(file.kind != .log, "IndexFileInspection reads .index and .timeindex files")
        self.file = file
        let directory = Directory(fileSystem: PosixFileSystem.shared)
        // Twice the largest index: a preallocated file is never larger, and a corrupt giant is refused.
        guard let bytes = try directory.readWhole(file.path, limitBytes: Limits.maxIndexBytes * 2) else {
            throw StreamStoreError(.io(errno: ENOENT), "There is no such file.", path: file.path)
        }
        fileBytes = Int64(bytes.count)
        let size = Self.entryBytes(file.kind)
        trailingBytes = bytes.count % size
        var whole = bytes.count / size
        var slots = 0
        while whole > 0 && bytes[(whole - 1) * size..<whole * size].allSatisfy({ $0 == 0 }) {
            whole -= 1
            slots += 1
        }
        preallocatedSlots = slots
        let wholeEntries = Array(bytes[0..<whole * size])
        let base = file.baseOffset
        entries = (0..<whole).map { index in
            let at = index * size
            if file.kind == .timeIndex {
                let relative = BigEndian.load(UInt32.self, from: bytes, at: at + 8)
                return Entry(relativeOffset: relative, offset: base &+ Int64(relative), position: nil, timestamp: BigEndian.load(Int64.self, from: bytes, at: at))
            }
            let relative = BigEndian.load(UInt32.self, from: bytes, at: at)
            return Entry(relativeOffset: relative, offset: base &+ Int64(relative), position: Int64(BigEndian.load(UInt32.self, from: bytes, at: at + 4)), timestamp: nil)
        }
        var problems: [String] = []
        if trailingBytes > 0 {
            problems.append("size \(bytes.count) is not a multiple of the \(size)-byte entry: \(trailingBytes) bytes follow the last whole entry")
        }
        let reason =
            file.kind == .timeIndex
            ? TimeIndex.validate(wholeEntries, segmentEntries: nil)
            : OffsetIndex.validate(wholeEntries, logBytes: Int64.max, segmentEntries: nil)
        if let reason { problems.append(reason) }
        self.problems = problems
    }
}
