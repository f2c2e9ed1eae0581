import StreamStoreFormat
/// Rebuilds a segment's indexes from its log: the log is the truth, an index only a cache of it
/// (docs/FORMAT.md, "Offset index", validation). Used when an index fails validation and by recovery.
package enum IndexBuilder {
    /// What a scan of one segment's log found.
    package struct Scan {
        package var validBytes: Int64 = 0
        package var nextOffset: Int64
        package var batchCount = 0
        var cadence: IndexCadence
        package var offsetEntries: [(offset: Int64, position: Int64)] = []
        var timeEntries: [(timestamp: Int64, offset: Int64)] = []
        package var stop: LogReader.Stop = .end
        var maxTimestamp: Int64 { cadence.maxTimestamp }

        package init(baseOffset: Int64, intervalBytes: Int) {
            nextOffset = baseOffset
            cadence = IndexCadence(intervalBytes: intervalBytes)
        }

        /// Notes the next valid batch of the log, which starts at byte `position`, and the
        /// entries the writer made before it.
        package mutating func add(_ header: BatchHeader, at position: Int64) {
            let entries = cadence.entriesBeforeBatch()
            if entries.offsetEntry { offsetEntries.append((header.baseOffset, position)) }
            if let timestamp = entries.timeEntry { timeEntries.append((timestamp, header.baseOffset)) }
            cadence.recordBatch(byteCount: header.totalBytes, maxTimestamp: header.maxTimestamp)
            validBytes = position + Int64(header.totalBytes)
            nextOffset = header.nextOffset
            batchCount += 1
        }
    }

    /// Scans `log` from its start and collects the index entries the writer would have made.
    package static func scan(log: File, logBytes: Int64, baseOffset: Int64, intervalBytes: Int) throws(StreamStoreError) -> Scan {
        var scan = Scan(baseOffset: baseOffset, intervalBytes: intervalBytes)
        var reader = LogReader(file: log, to: logBytes, offsets: .dense(firstBaseOffset: baseOffset))
        scan.stop = try reader.forEach { batch in scan.add(batch.header, at: batch.position) }
        return scan
    }

    /// Writes `scan`'s entries as the segment's index files, each through a temporary file that
    /// is fsynced and renamed into place. A sealed segment also gets its final time entry.
    static func write(_ scan: Scan, segment: Segment, sealed: Bool) throws(StreamStoreError) {
        var offsetBytes = [UInt8](repeating: 0, count: scan.offsetEntries.count * OffsetIndex.entryBytes)
        offsetBytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            for (index, entry) in scan.offsetEntries.enumerated() {
                BigEndian.store(UInt32(truncatingIfNeeded: entry.offset - segment.baseOffset), base, index * 8)
                BigEndian.store(UInt32(truncatingIfNeeded: entry.position), base, index * 8 + 4)
            }
        }
        var timeEntries = scan.timeEntries
        if sealed && scan.batchCount > 0 { timeEntries.append((scan.maxTimestamp, scan.nextOffset)) }
        var timeBytes = [UInt8](repeating: 0, count: timeEntries.count * TimeIndex.entryBytes)
        timeBytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            for (index, entry) in timeEntries.enumerated() {
                BigEndian.store(entry.timestamp, base, index * 12)
                BigEndian.store(UInt32(truncatingIfNeeded: entry.offset - segment.baseOffset), base, index * 12 + 8)
            }
        }
        let directory = Directory(fileSystem: segment.environment.fileSystem)
        try replace(segment.offsetIndexPath, with: offsetBytes, folder: segment.folder, directory: directory)
        try replace(segment.timeIndexPath, with: timeBytes, folder: segment.folder, directory: directory)
    }

    /// Replaces an index file atomically. On a full disk the old file goes first, and its
    /// blocks (an active segment's index is preallocated) make room for the new one: an index
    /// is derived from its log, and a missing one is rebuilt at the next open, so a crash in
    /// between loses nothing (a store recovering after a crash on a full disk must still open).
    private static func replace(_ path: String, with bytes: [UInt8], folder: String, directory: Directory) throws(StreamStoreError) {
        do throws(StreamStoreError) {
            try directory.writeAtomically(bytes, to: path, folder: folder)
        } catch let error where error.isOutOfSpace {
            try directory.remove(path)
            try directory.writeAtomically(bytes, to: path, folder: folder)
        }
    }

    /// Scans a sealed segment's log and rewrites its indexes.
    static func rebuild(segment: Segment, log: File, logBytes: Int64, sealed: Bool) throws(StreamStoreError) {
        let intervalBytes = segment.environment.currentIndexSizes().intervalBytes
        let scan = try scan(log: log, logBytes: logBytes, baseOffset: segment.baseOffset, intervalBytes: intervalBytes)
        if scan.stop != .end {
            segment.environment.logger.error("Segment \(segment.logPath) has invalid bytes at \(scan.validBytes) (\(scan.stop.sentence)); its index covers the valid batches before them.")
        }
        try write(scan, segment: segment, sealed: sealed)
    }
}
