import StreamStoreFormat
import Dispatch

/// Shares fsyncs among concurrent appenders of one partition (docs/ARCHITECTURE.md, "Durability").
///
/// An appender writes its batch, then waits here until an fsync that started after its write
/// has finished. While one fsync runs, later appenders queue up; the next fsync covers them
/// all, so N concurrent appenders pay about one fsync per round instead of N. A lone appender
/// pays exactly one fsync per append. The fsync runs on a dispatch queue, never on a thread of
/// Swift's cooperative pool, which waiting appenders do not block.
package final class GroupCommit: @unchecked Sendable {
    // Weak: a timer or queued fsync may fire after the partition is gone, and must then do nothing.
    private weak var partition: Partition?
    private let lock = Lock()
    private let queue: DispatchQueue
    private var durableOffset: Int64 = -1
    private var waiters: [(target: Int64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var flushing = false
    private var timerScheduled = false

    init(partition: Partition) {
        self.partition = partition
        queue = DispatchQueue(label: "streamstore.flush.\(partition.topic).\(partition.id)")
    }

    /// A group commit for the partition `attach(_:)` names, before that partition exists.
    init(topic: String, partition: Int) {
        queue = DispatchQueue(label: "streamstore.flush.\(topic).\(partition)")
    }

    /// Names the partition whose appends this shares fsyncs among (its init, before it is shared).
    func attach(_ partition: Partition) {
        self.partition = partition
    }

    /// Returns once everything before `target` is durable, or throws the fsync's error.
    package func waitDurable(upTo target: Int64) async throws(StreamStoreError) {
        // A fenced partition acknowledges nothing more, whatever later fsyncs report.
        if let failure = partition?.currentFailure { throw failure }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let startFlusher: Bool = lock.withLock {
                    if durableOffset >= target {
                        continuation.resume()
                        return false
                    }
                    waiters.append((target, continuation))
                    if flushing { return false }
                    flushing = true
                    return true
                }
                if startFlusher { queue.async { self.flushLoop() } }
            }
        } catch let error as StreamStoreError {
            throw error
        } catch {
            throw StreamStoreError(.io(errno: 5), "fsync failed: \(error)")
        }
    }

    /// For `.interval` flushing: one fsync `milliseconds` from now, unless one is pending.
    func scheduleFlush(afterMilliseconds milliseconds: Int64) {
        let schedule: Bool = lock.withLock {
            if timerScheduled { return false }
            timerScheduled = true
            return true
        }
        guard schedule else { return }
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(milliseconds))) {
            self.lock.withLock { self.timerScheduled = false }
            guard let partition = self.partition, partition.currentFailure == nil else { return }
            let (file, end) = partition.syncTarget()
            do throws(StreamStoreError) {
                try partition.context.syncLog(file)
                self.lock.withLock { self.durableOffset = max(self.durableOffset, end.offset) }
            } catch {
                partition.markFailed(error)
            }
        }
    }

    /// fsyncs a segment that was just sealed, then advances the recovery point past it. A failed
    /// fsync fences the partition; a checkpoint that cannot be written (a full disk) does not:
    /// it only shortens the next recovery, and the next checkpoint carries the same point.
    func syncSealedSegment(_ log: File, recoveryPoint: Int64) {
        queue.async {
            guard let partition = self.partition else { return }
            do throws(StreamStoreError) {
                try partition.context.syncLog(log)
            } catch {
                partition.markFailed(error.with(topic: partition.topic, partition: partition.id))
                return
            }
            do throws(StreamStoreError) {
                try partition.advanceRecoveryPoint(to: recoveryPoint)
            } catch {
                partition.context.logger.warning(
                    "Could not write the checkpoint after fsyncing a sealed segment (the next open after a crash scans more of the log instead): \(error.with(topic: partition.topic, partition: partition.id))")
            }
        }
    }

    /// Waits until every fsync queued so far has run.
    func drain() {
        queue.sync {}
    }

    /// Runs fsyncs until no appender waits. Each round covers every write made before it began.
    private func flushLoop() {
        while true {
            guard let partition else { return }
            let (file, end) = partition.syncTarget()
            // Checked before and after the fsync: a failure elsewhere (a roll's fsync of the
            // sealed segment) means waiters' data may be gone even if this fsync succeeds.
            var failure = partition.currentFailure
            if failure == nil {
                do throws(StreamStoreError) {
                    try partition.context.syncLog(file)
                    failure = partition.markDurable(end)
                } catch {
                    let fenced = error.with(topic: partition.topic, partition: partition.id)
                    failure = fenced
                    partition.markFailed(fenced)
                }
            }
            let (ready, again): ([CheckedContinuation<Void, any Error>], Bool) = lock.withLock {
                var ready: [CheckedContinuation<Void, any Error>] = []
                if let failure {
                    // Every waiter fails: none of them can be sure its write is durable.
                    ready = waiters.map(\.continuation)
                    waiters.removeAll()
                    flushing = false
                    for continuation in ready { continuation.resume(throwing: failure) }
                    return ([], false)
                }
                durableOffset = max(durableOffset, end.offset)
                var pending: [(target: Int64, continuation: CheckedContinuation<Void, any Error>)] = []
                for waiter in waiters {
                    if waiter.target <= durableOffset { ready.append(waiter.continuation) } else { pending.append(waiter) }
                }
                waiters = pending
                // Deciding to stop and clearing `flushing` in one locked step means a waiter that
                // arrives later always finds either a running loop or starts a new one.
                if waiters.isEmpty { flushing = false }
                return (ready, !waiters.isEmpty)
            }
            for continuation in ready { continuation.resume() }
            if !again { return }
        }
    }
}
