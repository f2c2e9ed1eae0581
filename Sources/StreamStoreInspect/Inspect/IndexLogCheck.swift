import StreamStore
import StreamStoreFormat
import StreamStoreLog
/// What comparing an index file with its log found.
package struct IndexLogCheck: Sendable, Equatable {
    /// Disagreements, as sentences; empty when the index agrees with the log.
    package var problems: [String]
    /// Whole, valid batches read from the log.
    package var batchCount: Int
    /// Entries the writer makes from this log (docs/FORMAT.md, section 5), when the index
    /// interval was given and the log scanned cleanly.
    package var expectedEntryCount: Int?
}

extension IndexFileInspection {
    /// Most disagreements listed one by one; the rest are counted.
    static let maxListedProblems = 10

    /// Compares the entries with the `.log` they index, in one scan of the log.
    ///
    /// An offset-index entry must name the start of a batch and that batch's base offset. A
    /// time-index entry (T, o) must name the first offset of a batch (or the offset after the
    /// last, for a sealed segment's final entry), and no record before `o` may be stamped after
    /// T, or lookups by time would skip records. With `indexIntervalBytes` (the topic's
    /// setting), the entries must also be exactly those the writer makes from this log, which
    /// is what the store checks before trusting an index.
    ///
    /// - Parameters:
    ///   - logPath: the segment's `.log` file.
    ///   - indexIntervalBytes: the topic's `indexIntervalBytes`; nil skips the comparison with
    ///     the writer's entries (for a file whose topic config is unknown).
    ///   - sealed: true when a later segment exists, so the time index ends with a final entry.
    package func check(againstLog logPath: String, indexIntervalBytes: Int?, sealed: Bool) throws(StreamStoreError) -> IndexLogCheck {
        let log = try File.open(logPath, create: false, readOnly: true, fileSystem: PosixFileSystem.shared)
        var walk = EntryWalk(entries: entries, isTimeIndex: file.kind == .timeIndex, checksPlacement: problems.isEmpty)
        var cadence = IndexCadence(intervalBytes: indexIntervalBytes ?? 1)
        var expectedOffsets: [Entry] = []
        var expectedTimes: [Entry] = []
        var batchCount = 0
        var nextOffset = file.baseOffset
        var reader = LogReader(file: log, to: try log.size(), offsets: .dense(firstBaseOffset: file.baseOffset))
        let stop = try reader.forEach { batch in
            let (header, position) = (batch.header, batch.position)
            let made = cadence.entriesBeforeBatch()
            if made.offsetEntry { expectedOffsets.append(entry(offset: header.baseOffset, position: position)) }
            if let timestamp = made.timeEntry { expectedTimes.append(entry(offset: header.baseOffset, timestamp: timestamp)) }
            walk.batch(startingAt: position, baseOffset: header.baseOffset)
            walk.runningMaxTimestamp = max(walk.runningMaxTimestamp, header.maxTimestamp)
            cadence.recordBatch(byteCount: header.totalBytes, maxTimestamp: header.maxTimestamp)
            batchCount += 1
            nextOffset = header.nextOffset
        }
        var found = walk.finish(nextOffset: nextOffset)
        var expectedCount: Int?
        if stop != .end {
            found.append("the log is damaged (\(stop.sentence)), so entries past its last valid batch cannot be checked")
        } else if indexIntervalBytes != nil {
            // A sealed segment's time index ends with a final entry (largest timestamp, next
            // offset); an active one has none, though one there would mislead no lookup.
            let final = entry(offset: nextOffset, timestamp: cadence.maxTimestamp)
            let allowed =
                file.kind == .offsetIndex ? [expectedOffsets]
                : sealed && batchCount > 0 ? [expectedTimes + [final]] : [expectedTimes, expectedTimes + [final]]
            expectedCount = allowed[0].count
            if !allowed.contains(entries) {
                found.append(differenceSentence(wanted: allowed[0]))
            }
        }
        if found.count > Self.maxListedProblems {
            let more = found.count - Self.maxListedProblems
            found = Array(found.prefix(Self.maxListedProblems)) + ["and \(more) more disagreement\(more == 1 ? "" : "s")"]
        }
        return IndexLogCheck(problems: found, batchCount: batchCount, expectedEntryCount: expectedCount)
    }

    /// Where the entries first part from the writer's, for a person to look at.
    private func differenceSentence(wanted: [Entry]) -> String {
        let advice = "; the store rebuilds an index it doubts when it opens the segment, or delete the index file to force it"
        if let first = zip(entries, wanted).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            return "entry \(first.offset) is \(describe(first.element.0)) where the writer makes \(describe(first.element.1)) from this log" + advice
        }
        return "the index has \(entries.count) entries where the writer makes \(wanted.count) from this log" + advice
    }

    private func describe(_ entry: Entry) -> String {
        if let position = entry.position { return "(offset \(entry.offset) at byte \(position))" }
        return "(timestamp \(entry.timestamp ?? 0), offset \(entry.offset))"
    }

    private func entry(offset: Int64, position: Int64? = nil, timestamp: Int64? = nil) -> Entry {
        Entry(relativeOffset: UInt32(truncatingIfNeeded: offset &- file.baseOffset), offset: offset, position: position, timestamp: timestamp)
    }
}

/// Walks sorted index entries alongside the batches of a log, in one pass, and notes every
/// entry that names no batch start (or the wrong one).
private struct EntryWalk {
    let entries: [IndexFileInspection.Entry]
    let isTimeIndex: Bool
    /// Entries that fail the index's own checks (out of order) cannot be walked in step.
    let checksPlacement: Bool
    var next = 0
    var problems: [String] = []
    /// Largest record timestamp of the batches walked so far.
    var runningMaxTimestamp = Int64.min

    init(entries: [IndexFileInspection.Entry], isTimeIndex: Bool, checksPlacement: Bool) {
        self.entries = entries
        self.isTimeIndex = isTimeIndex
        self.checksPlacement = checksPlacement
    }

    mutating func batch(startingAt position: Int64, baseOffset: Int64) {
        guard checksPlacement else { return }
        if isTimeIndex {
            while next < entries.count, entries[next].offset < baseOffset {
                problems.append("entry \(next) names offset \(entries[next].offset), which is not the first offset of a batch")
                next += 1
            }
            if next < entries.count, entries[next].offset == baseOffset {
                checkTimestamp(of: next)
                next += 1
            }
        } else {
            while next < entries.count, let at = entries[next].position, at < position {
                problems.append("entry \(next) says offset \(entries[next].offset) starts at byte \(at), but no batch starts there")
                next += 1
            }
            if next < entries.count, entries[next].position == position {
                if entries[next].offset != baseOffset {
                    problems.append(
                        "entry \(next) says offset \(entries[next].offset) starts at byte \(position), but the batch there has base offset \(baseOffset)")
                }
                next += 1
            }
        }
    }

    /// Entries after the last batch: only a time index's final entry may name the next offset.
    mutating func finish(nextOffset: Int64) -> [String] {
        guard checksPlacement else { return problems }
        while next < entries.count {
            let entry = entries[next]
            if isTimeIndex && entry.offset == nextOffset && next == entries.count - 1 {
                checkTimestamp(of: next)
            } else if let position = entry.position {
                problems.append("entry \(next) points at byte \(position), past the log's last valid batch")
            } else {
                problems.append("entry \(next) names offset \(entry.offset), past the log's last offset \(nextOffset - 1)")
            }
            next += 1
        }
        return problems
    }

    private mutating func checkTimestamp(of index: Int) {
        guard let timestamp = entries[index].timestamp, runningMaxTimestamp > timestamp else { return }
        problems.append(
            "entry \(index) says every record before offset \(entries[index].offset) is stamped at most \(timestamp), but one is stamped \(runningMaxTimestamp): lookups by time would skip records")
    }
}
