import Foundation

/// A moment one task reaches and others wait for: a test waits on the event itself, never on a
/// guessed delay. One-shot: once signalled it stays signalled, and later waits return at once.
package final class TestEvent: @unchecked Sendable {
    private let lock = NSLock()
    private var signalled = false
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    package init() {}

    package var isSignalled: Bool { lock.withLock { signalled } }

    package func signal() {
        let waiting: [CheckedContinuation<Void, Never>] = lock.withLock {
            signalled = true
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Returns once the event is signalled (at once if it already was), or when the task is
    /// cancelled: a suite's time limit cancels a wait that would never end.
    package func wait() async {
        let id = lock.withLock {
            defer { nextWaiter += 1 }
            return nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = lock.withLock {
                    if signalled || Task.isCancelled { return true }
                    waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            lock.withLock { waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

extension TestEvent {
    /// Waits for the event for up to `seconds`; true when it was signalled in time.
    package func wait(seconds: Double) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait() }
            group.addTask { try? await Task.sleep(for: .seconds(max(0, seconds))) }
            await group.next()
            group.cancelAll()
        }
        return isSignalled
    }
}

/// A call parked on its way through a test's file system (an fsync, say) until the test
/// releases it, to force one interleaving of threads.
package final class Gate: @unchecked Sendable {
    private let reached = TestEvent()
    private let condition = NSCondition()
    private var released = false

    package init() {}

    /// True once the parked call arrived (and waits).
    package var isReached: Bool { reached.isSignalled }

    /// Returns once the parked call has arrived.
    package func waitUntilReached() async { await reached.wait() }

    package func release() {
        condition.withLock {
            released = true
            condition.broadcast()
        }
    }

    /// Called by the parked call: says it arrived, then blocks its thread until released.
    package func pass() {
        reached.signal()
        condition.withLock {
            while !released { condition.wait() }
        }
    }
}
