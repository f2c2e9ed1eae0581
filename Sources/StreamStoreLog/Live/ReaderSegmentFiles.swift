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

    /// `previous`'s active segment files, its index copies extended by the entries the writer
    /// added since (read from where the copies end, not from the files' starts: an active
    /// index of a 1 GiB segment holds megabytes, and a tailing reader refreshes every
    /// ``Limits/readerIndexRefreshBytes``). The log stays open as it is.
    static func refreshed(
        _ previous: SegmentFiles, offsetIndexPath: String, timeIndexPath: String, baseOffset: Int64,
        limit: (offset: Int64, position: Int64), fileSystem: FileSystem
    ) throws(StreamStoreError) -> SegmentFiles {
        let offsetFile = previous.offsetIndex.file
        let offsetLast = offsetFile.withEntries { base, count -> (offset: UInt32, position: UInt32)? in
            guard let base, count > 0 else { return nil }
            let at = (count - 1) * OffsetIndex.entryBytes
            return (BigEndian.load(UInt32.self, base, at), BigEndian.load(UInt32.self, base, at + 4))
        }
        let newOffsetEntries = try readEntries(path: offsetIndexPath, after: offsetFile.entryCount, entryBytes: OffsetIndex.entryBytes, fileSystem: fileSystem) {
            validOffsetEntries($0, baseOffset: baseOffset, limit: limit, after: offsetLast)
        }
        let timeFile = previous.timeIndex.file
        let timeLast = timeFile.withEntries { base, count -> (timestamp: Int64, offset: UInt32)? in
            guard let base, count > 0 else { return nil }
            let at = (count - 1) * TimeIndex.entryBytes
            return (BigEndian.load(Int64.self, base, at), BigEndian.load(UInt32.self, base, at + 8))
        }
        let newTimeEntries = try readEntries(path: timeIndexPath, after: timeFile.entryCount, entryBytes: TimeIndex.entryBytes, fileSystem: fileSystem) {
            validTimeEntries($0, baseOffset: baseOffset, limit: limit, after: timeLast)
        }
        let offsets = newOffsetEntries.withUnsafeBytes { offsetFile.extendingSnapshot(with: $0) } ?? offsetFile
        let times = newTimeEntries.withUnsafeBytes { timeFile.extendingSnapshot(with: $0) } ?? timeFile
        return SegmentFiles(
            log: previous.log, offsetIndex: OffsetIndex(file: offsets, baseOffset: baseOffset), timeIndex: TimeIndex(file: times, baseOffset: baseOffset))
    }

    /// The sound entries of the index file at `path` after its first `entryCount`: read a chunk
    /// at a time until `sound` (how many leading entries of the bytes it is given are sound)
    /// stops short of a chunk's end. Empty when the file is gone or holds nothing new.
    private static func readEntries(
        path: String, after entryCount: Int, entryBytes: Int, fileSystem: FileSystem, sound: (UnsafeRawBufferPointer) -> Int
    ) throws(StreamStoreError) -> [UInt8] {
        let file: File
        do throws(StreamStoreError) {
            file = try File.open(path, create: false, readOnly: true, fileSystem: fileSystem)
        } catch {
            // The writer rolled meanwhile and a later refresh sees the new segment.
            return []
        }
        let chunkBytes = Limits.initialIndexBytes / entryBytes * entryBytes
        var taken: [UInt8] = []
        var position = Int64(entryCount * entryBytes)
        while taken.count < Limits.maxIndexBytes {
            let before = taken.count
            taken += [UInt8](repeating: 0, count: chunkBytes)
            let outcome = taken.withUnsafeMutableBytes { buffer -> Result<Int, StreamStoreError> in
                do throws(StreamStoreError) {
                    return .success(try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[before...]), at: position))
                } catch {
                    return .failure(error)
                }
            }
            let read = try outcome.get()
            taken.removeLast(chunkBytes - read / entryBytes * entryBytes)
            // Checked whole each time: the entries of a chunk follow those of the one before.
            let good = taken.withUnsafeBytes { sound($0) } * entryBytes
            if good < taken.count || read < chunkBytes {
                taken.removeLast(taken.count - good)
                break
            }
            position += Int64(chunkBytes)
        }
        return taken
    }

    /// How many leading offset-index entries are sound: relative offsets and positions strictly
    /// increasing (the first may be anything but past the limit, or must follow `start`, the
    /// entry before them), within the limit. A segment's first entry is never at position 0 (no
    /// entry is written for the batch a segment starts with), so a first slot at position 0 is
    /// the zeroed room of a preallocated index, not an entry.
    static func validOffsetEntries(
        _ bytes: UnsafeRawBufferPointer, baseOffset: Int64, limit: (offset: Int64, position: Int64)?, after start: (offset: UInt32, position: UInt32)? = nil
    ) -> Int {
        var previous = start
        return leadingEntries(bytes, entryBytes: OffsetIndex.entryBytes) { entry in
            let offset = BigEndian.load(UInt32.self, entry, 0)
            let position = BigEndian.load(UInt32.self, entry, 4)
            if let previous, offset <= previous.offset || position <= previous.position { return false }
            if previous == nil && position == 0 { return false }
            if let limit, baseOffset + Int64(offset) >= limit.offset || Int64(position) >= limit.position { return false }
            previous = (offset, position)
            return true
        }
    }

    /// How many whole entries of `bytes` `sound` accepts before it first refuses one.
    private static func leadingEntries(_ bytes: UnsafeRawBufferPointer, entryBytes: Int, sound: (UnsafeRawPointer) -> Bool) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var count = 0
        while (count + 1) * entryBytes <= bytes.count, sound(base + count * entryBytes) { count += 1 }
        return count
    }

    static func validOffsetEntries(_ bytes: [UInt8], baseOffset: Int64, limit: (offset: Int64, position: Int64)?) -> Int {
        bytes.withUnsafeBytes { validOffsetEntries($0, baseOffset: baseOffset, limit: limit) }
    }

    /// How many leading time-index entries are sound: timestamps and relative offsets never
    /// decreasing, offsets within the limit (a sealed segment's final entry names its next
    /// offset, which may equal the limit).
    static func validTimeEntries(
        _ bytes: UnsafeRawBufferPointer, baseOffset: Int64, limit: (offset: Int64, position: Int64)?, after start: (timestamp: Int64, offset: UInt32)? = nil
    ) -> Int {
        var previous = start
        return leadingEntries(bytes, entryBytes: TimeIndex.entryBytes) { entry in
            let timestamp = BigEndian.load(Int64.self, entry, 0)
            let offset = BigEndian.load(UInt32.self, entry, 8)
            if let previous, timestamp < previous.timestamp || offset < previous.offset { return false }
            if timestamp == 0 && offset == 0 && previous != nil { return false }
            if let limit, baseOffset + Int64(offset) > limit.offset { return false }
            previous = (timestamp, offset)
            return true
        }
    }

    static func validTimeEntries(_ bytes: [UInt8], baseOffset: Int64, limit: (offset: Int64, position: Int64)?) -> Int {
        bytes.withUnsafeBytes { validTimeEntries($0, baseOffset: baseOffset, limit: limit) }
    }
}
