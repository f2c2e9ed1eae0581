import StreamStoreFormat
/// A one-shot signal a task can wait on without polling: tailing readers register one with
/// every partition they wait for, and the first append (or a close, a cancellation, an
/// assignment change) wakes them.
///
/// One `Wakeup` serves one wait. Signalling it again, or signalling it before anyone waits, is
/// harmless: a wait on a signalled `Wakeup` returns at once.
package final class Wakeup: @unchecked Sendable {
    package init() {}
    private let lock = Lock()
    /// Guarded by `lock`.
    private var signalled = false
    private var continuation: CheckedContinuation<Void, Never>?

    /// Wakes the waiter, now or when it starts waiting.
    package func signal() {
        let waiting: CheckedContinuation<Void, Never>? = lock.withLock {
            signalled = true
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume()
    }

    /// Returns once signalled, or at once when the task is cancelled.
    package func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = lock.withLock {
                    // The cancellation handler may have run before this point: it signalled.
                    if signalled || Task.isCancelled { return true }
                    self.continuation = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
    }
}

/// The waiters of one partition's log end (kept under the partition's lock).
struct TailWaiters {
    private var waiting: [ObjectIdentifier: Wakeup] = [:]

    var isEmpty: Bool { waiting.isEmpty }

    mutating func add(_ wakeup: Wakeup) { waiting[ObjectIdentifier(wakeup)] = wakeup }

    mutating func remove(_ wakeup: Wakeup) { waiting[ObjectIdentifier(wakeup)] = nil }

    /// Takes every waiter out, to be signalled once the lock is released.
    mutating func takeAll() -> [Wakeup] {
        guard !waiting.isEmpty else { return [] }
        defer { waiting.removeAll(keepingCapacity: true) }
        return Array(waiting.values)
    }
}
