import StreamStore
import StreamStoreFormat
import StreamStoreLog
/// What `verify` found in one segment.
package struct SegmentReport: Sendable, Equatable {
    package var path: String
    package var baseOffset: Int64
    package var batchCount: Int
    package var recordCount: Int64
    package var validBytes: Int64
    package var fileBytes: Int64
    /// Problems found; empty when the segment is sound.
    package var problems: [String]
    /// Whether the segment's correlation filter was checked, and what was found.
    package var correlationFilter: CorrelationFilterCheck = .notApplicable
}

/// What `verify` found of a segment's correlation filter (`.cfilter`, which lets traces skip the
/// segment). A bad filter is also one of the segment's ``SegmentReport/problems``.
package enum CorrelationFilterCheck: String, Sendable, Equatable {
    /// The filter is intact, names this segment, and holds every correlation id in its log.
    case ok
    /// The sealed segment has no filter (sealed just before a close, or never traced): traces
    /// scan it, and the first one writes its filter.
    case missing
    /// The filter is corrupt, stale, or lacks an id of the log: traces do not trust it.
    case bad
    /// The active segment (traces always scan it), or a store without correlation filters.
    case notApplicable
}

extension Partition {
    /// Reads every batch of every segment and checks it (length, magic, CRC32C, dense offsets,
    /// every record decodes), and checks each index against its log.
    func verify(progress: (Int64) -> Void = { _ in }) throws(StreamStoreError) -> [SegmentReport] {
        let (segments, logEnd) = lock.withLock { (self.segments, nextOffset) }
        var reports: [SegmentReport] = []
        for (index, segment) in segments.enumerated() {
            let files = try segment.openFiles()
            let fileBytes = try files.log.size()
            let limit = index == segments.count - 1 ? lock.withLock { activeSizeBytes } : fileBytes
            var report = SegmentReport(path: segment.logPath, baseOffset: segment.baseOffset, batchCount: 0, recordCount: 0, validBytes: 0, fileBytes: fileBytes, problems: [])
            let scan = try IndexBuilder.scan(log: files.log, logBytes: limit, baseOffset: segment.baseOffset, intervalBytes: context.config.indexIntervalBytes)
            report.batchCount = scan.batchCount
            report.recordCount = scan.nextOffset - segment.baseOffset
            report.validBytes = scan.validBytes
            if scan.stop != .end { report.problems.append(scan.stop.sentence) }
            let expectedEnd = index == segments.count - 1 ? logEnd : (segments[index + 1].baseOffset)
            if scan.stop == .end && scan.nextOffset != expectedEnd {
                report.problems.append("segment ends at offset \(scan.nextOffset), expected \(expectedEnd)")
            }
            var filterCheck = try correlationFilterCheck(of: segment, isActive: index == segments.count - 1)
            // Every record must decode, not only every batch pass its CRC; and a filter must
            // hold the correlation id of every record.
            var position: Int64 = 0
            while position < scan.validBytes {
                let batches = try readBatchesForVerify(files: files, at: position, limit: scan.validBytes)
                if batches.isEmpty { break }
                for batch in batches {
                    do {
                        try (batch.isCompressed ? decompress(batch, segment: segment, at: position) : batch).forEachRecord { record in
                            filterCheck.look(at: record)
                        }
                    } catch {
                        report.problems.append("batch at offset \(batch.baseOffset): \(error)")
                    }
                    position += Int64(batch.byteCount)
                }
                progress(position)
            }
            report.correlationFilter = filterCheck.status
            if let problem = filterCheck.problem(path: segment.correlationFilterPath) { report.problems.append(problem) }
            let offsetEntries = files.offsetIndex.entries().map { (Int64($0.relativeOffset) + segment.baseOffset, Int64($0.position)) }
            let expectedOffsets = scan.offsetEntries.map { ($0.offset, $0.position) }
            // The index can only be judged against a log that scanned to its end.
            if scan.stop == .end && !offsetEntries.elementsEqual(expectedOffsets, by: { $0 == $1 }) {
                report.problems.append("the offset index (\(offsetEntries.count) entries) disagrees with the log (\(expectedOffsets.count) expected); delete the .index file and reopen the store to rebuild it")
            }
            reports.append(report)
        }
        return reports
    }

    private func readBatchesForVerify(files: SegmentFiles, at position: Int64, limit: Int64) throws(StreamStoreError) -> [StoredBatch] {
        let count = Int(min(limit - position, Int64(LogScanner.chunkBytes)))
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try withMutableBytes(&buffer) { (raw) throws(StreamStoreError) in try files.log.read(into: raw, at: position) }
        var parsed = BatchParser.parse(Array(buffer[0..<got]))
        if parsed.batches.isEmpty, let needed = parsed.incompleteBatchBytes, position + Int64(needed) <= limit {
            var whole = [UInt8](repeating: 0, count: needed)
            _ = try withMutableBytes(&whole) { (raw) throws(StreamStoreError) in try files.log.read(into: raw, at: position) }
            parsed = BatchParser.parse(whole)
        }
        return parsed.batches
    }
}

extension Topic {
    /// Checks every batch, record and index of one partition; see ``SegmentReport``.
    /// `progress` is called with bytes checked in the current segment.
    package func verify(partition index: Int, progress: (Int64) -> Void = { _ in }) throws(StreamStoreError) -> [SegmentReport] {
        try partition(index).verify(progress: progress)
    }
}
