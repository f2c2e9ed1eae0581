import StreamStoreFormat
import StreamStoreLog
/// Drives the cursors of one replay: reads the partitions in turn, one read each, and at the
/// log end either finishes or, when following, waits for the next append on any of them.
///
/// Used by one task at a time (an async iterator), so it needs no lock of its own.
final class ReplayEngine {
    let cursors: [PartitionCursor]
    private let follow: Bool
    private let maxBytesPerRead: Int
    /// The cursor the next read starts with, so every partition gets its turn.
    private var nextCursor = 0

    init(cursors: [PartitionCursor], options: ReplayOptions) {
        self.cursors = cursors
        follow = options.follow
        maxBytesPerRead = options.maxBytesPerRead
    }

    /// The next batches of one partition; nil once the replay is over (every partition at its
    /// end without `follow`, every partition past its stop, or the task cancelled).
    nonisolated(nonsending) func next() async throws(StreamStoreError) -> [StoredBatch]? {
        while true {
            if Task.isCancelled { return nil }
            var allFinished = true
            for step in 0..<cursors.count {
                let index = (nextCursor + step) % cursors.count
                let cursor = cursors[index]
                guard !cursor.isFinished else { continue }
                allFinished = false
                let batches = try cursor.read(maxBytes: maxBytesPerRead)
                if !batches.isEmpty {
                    nextCursor = (index + 1) % cursors.count
                    return batches
                }
                if cursor.isFinished { continue }
            }
            if allFinished || !follow { return nil }
            await waitForAppend()
        }
    }

    /// Waits until any unfinished partition has a record past its cursor (or the task is
    /// cancelled, or a partition closes).
    nonisolated(nonsending) private func waitForAppend() async {
        let wakeup = Wakeup()
        let waiting = cursors.filter { !$0.isFinished }
        for cursor in waiting { cursor.partition.notify(wakeup, whenEndPasses: cursor.position) }
        await wakeup.wait()
        for cursor in waiting { cursor.partition.cancelNotify(wakeup) }
    }
}
