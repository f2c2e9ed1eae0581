import StreamStoreFormat
/// Decides when a batch gets index entries, identically on the append path and when an index
/// is rebuilt from its log, so a rebuilt index equals the one the writer made.
///
/// An offset-index entry is added for a batch once `indexIntervalBytes` of log have been
/// written since the previous entry; a time-index entry at the same moment when the running
/// maximum timestamp has grown since the last time entry.
package struct IndexCadence {
    let intervalBytes: Int
    private(set) var bytesSinceLastEntry = 0
    /// Largest record timestamp in the segment so far (Int64.min when empty).
    package private(set) var maxTimestamp = Int64.min
    private var lastTimeEntryTimestamp = Int64.min

    package init(intervalBytes: Int) { self.intervalBytes = max(1, intervalBytes) }

    /// Before a batch is written: whether it gets an offset entry, and the timestamp of the time
    /// entry it gets (the running maximum of all records before it), if any.
    package mutating func entriesBeforeBatch() -> (offsetEntry: Bool, timeEntry: Int64?) {
        guard bytesSinceLastEntry >= intervalBytes else { return (false, nil) }
        bytesSinceLastEntry = 0
        guard maxTimestamp > lastTimeEntryTimestamp else { return (true, nil) }
        lastTimeEntryTimestamp = maxTimestamp
        return (true, maxTimestamp)
    }

    /// After a batch is written.
    package mutating func recordBatch(byteCount: Int, maxTimestamp batchMax: Int64) {
        bytesSinceLastEntry += byteCount
        if batchMax > maxTimestamp { maxTimestamp = batchMax }
    }

    /// Restores the state the writer had when a segment was closed cleanly, so appends after
    /// reopening index exactly as a rebuild from the log would.
    mutating func restore(bytesSinceLastEntry: Int, maxTimestamp: Int64, lastTimeEntryTimestamp: Int64) {
        self.bytesSinceLastEntry = bytesSinceLastEntry
        self.maxTimestamp = maxTimestamp
        self.lastTimeEntryTimestamp = lastTimeEntryTimestamp
    }
}
