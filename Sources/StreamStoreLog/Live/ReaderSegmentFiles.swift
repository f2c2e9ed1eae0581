import StreamStoreFormat

/// A reader process's view of one segment's files: its log opened read-only and its indexes
/// copied into memory, never mapped (the writer trims index files on roll and close, and a
/// mapping of a shrunk file faults).
///
/// The writer's active index files hold zeroed, preallocated room after their entries and may
/// be mid-way through writing one: only the leading entries that are monotonic and lie before
/// what the writer has published are taken. A missing or doubtful index is no error for a
/// reader: lookups then start at the segment's first byte, which is slower but still correct.
enum ReaderSegmentFiles {
    /// Opens `segment`'s files for a reader. `limit` bounds the entries taken: offsets below
    /// `limit.offset` and positions below `limit.position` (the published end, for the active
    /// segment); nil takes every valid entry (a sealed segment).
    static func open(
        logPath: String, offsetIndexPath: String, timeIndexPath: String, baseOffset: Int64,
        limit: (offset: Int64, position: Int64)?, fileSystem: FileSystem
    ) throws(StreamStoreError) -> SegmentFiles {
        let log = try File.open(logPath, create: false, readOnly: true, fileSystem: fileSystem)
        let offsetBytes = try IndexFile.readEntries(path: offsetIndexPath, fileSystem: fileSystem) ?? []
        let timeBytes = try IndexFile.readEntries(path: timeIndexPath, fileSystem: fileSystem) ?? []
        let offsetEntries = validOffsetEntries(offsetBytes, baseOffset: baseOffset, limit: limit)
        let timeEntries = validTimeEntries(timeBytes, baseOffset: baseOffset, limit: limit)
        let offsetFile = IndexFile(snapshotOf: offsetIndexPath, entryBytes: OffsetIndex.entryBytes, entries: Array(offsetBytes.prefix(offsetEntries * OffsetIndex.entryBytes)))
        let timeFile = IndexFile(snapshotOf: timeIndexPath, entryBytes: TimeIndex.entryBytes, entries: Array(timeBytes.prefix(timeEntries * TimeIndex.entryBytes)))
        return SegmentFiles(
            log: log, offsetIndex: OffsetIndex(file: offsetFile, baseOffset: baseOffset), timeIndex: TimeIndex(file: timeFile, baseOffset: baseOffset))
    }

    /// How many leading offset-index entries are sound: relative offsets and positions strictly
    /// increasing (the first may be anything but past the limit), within the limit.
    static func validOffsetEntries(_ bytes: [UInt8], baseOffset: Int64, limit: (offset: Int64, position: Int64)?) -> Int {
        bytes.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            var count = 0
            var previous: (offset: UInt32, position: UInt32)?
            while (count + 1) * OffsetIndex.entryBytes <= raw.count {
                let offset = BigEndian.load(UInt32.self, base, count * OffsetIndex.entryBytes)
                let position = BigEndian.load(UInt32.self, base, count * OffsetIndex.entryBytes + 4)
                if let previous, offset <= previous.offset || position <= previous.position { break }
                if let limit, baseOffset + Int64(offset) >= limit.offset || Int64(position) >= limit.position { break }
                previous = (offset, position)
                count += 1
            }
            return count
        }
    }

    /// How many leading time-index entries are sound: timestamps and relative offsets never
    /// decreasing, offsets within the limit (a sealed segment's final entry names its next
    /// offset, which may equal the limit).
    static func validTimeEntries(_ bytes: [UInt8], baseOffset: Int64, limit: (offset: Int64, position: Int64)?) -> Int {
        bytes.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            var count = 0
            var previous: (timestamp: Int64, offset: UInt32)?
            while (count + 1) * TimeIndex.entryBytes <= raw.count {
                let timestamp = BigEndian.load(Int64.self, base, count * TimeIndex.entryBytes)
                let offset = BigEndian.load(UInt32.self, base, count * TimeIndex.entryBytes + 8)
                if let previous, timestamp < previous.timestamp || offset < previous.offset { break }
                if timestamp == 0 && offset == 0 && count > 0 { break }
                if let limit, baseOffset + Int64(offset) > limit.offset { break }
                previous = (timestamp, offset)
                count += 1
            }
            return count
        }
    }
}
