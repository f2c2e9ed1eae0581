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
            let isActive = index == segments.count - 1
            let limit = isActive ? lock.withLock { activeSizeBytes } : fileBytes
            var report = SegmentReport(path: segment.logPath, baseOffset: segment.baseOffset, batchCount: 0, recordCount: 0, validBytes: 0, fileBytes: fileBytes, problems: [])
            var filterCheck = try correlationFilterCheck(of: segment, isActive: isActive)
            let (scan, recordProblems) = try scanForVerify(segment, files: files, limit: limit, filterCheck: &filterCheck, progress: progress)
            report.batchCount = scan.batchCount
            report.recordCount = scan.nextOffset - segment.baseOffset
            report.validBytes = scan.validBytes
            if scan.stop != .end { report.problems.append(scan.stop.sentence) }
            let expectedEnd = isActive ? logEnd : (segments[index + 1].baseOffset)
            if scan.stop == .end && scan.nextOffset != expectedEnd {
                report.problems.append("segment ends at offset \(scan.nextOffset), expected \(expectedEnd)")
            }
            report.problems += recordProblems
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

    /// One walk of a segment's log up to `limit`: the index entries its batches call for, as a
    /// rebuild makes them, and every record decoded (not only every batch past its CRC), each
    /// shown to the correlation filter check. Returns the scan and the records' problems.
    private func scanForVerify(
        _ segment: Segment, files: SegmentFiles, limit: Int64, filterCheck: inout CorrelationFilterVerification, progress: (Int64) -> Void
    ) throws(StreamStoreError) -> (scan: IndexBuilder.Scan, recordProblems: [String]) {
        var scan = IndexBuilder.Scan(baseOffset: segment.baseOffset, intervalBytes: context.config.indexIntervalBytes)
        var problems: [String] = []
        var reader = LogReader(file: files.log, to: limit, offsets: .dense(firstBaseOffset: segment.baseOffset))
        var reportedBytes: Int64 = 0
        while let batch = try reader.next() {
            scan.add(batch.header, at: batch.position)
            let stored = reader.storedBatch(batch)
            do {
                try (stored.isCompressed ? decompress(stored, segment: segment, at: batch.position) : stored).forEachRecord { record in
                    filterCheck.look(at: record)
                }
            } catch {
                problems.append("batch at offset \(batch.header.baseOffset): \(error)")
            }
            if batch.endPosition - reportedBytes >= Int64(LogReader.chunkBytes) || batch.endPosition == limit {
                reportedBytes = batch.endPosition
                progress(reportedBytes)
            }
        }
        scan.stop = reader.stop ?? .end
        return (scan, problems)
    }
}

extension Topic {
    /// Checks every batch, record and index of one partition; see ``SegmentReport``.
    /// `progress` is called with bytes checked in the current segment.
    package func verify(partition index: Int, progress: (Int64) -> Void = { _ in }) throws(StreamStoreError) -> [SegmentReport] {
        try partition(index).verify(progress: progress)
    }
}
