import StreamStore

/// Wakes the relay's one waiting loop: a signal that arrives while nobody waits is kept for the
/// next wait, so a commit between two passes is never missed.
final class RelayWakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Locked(State())

    func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next signal (at once if one is pending), after `milliseconds`, or when the
    /// task is cancelled.
    func wait(milliseconds: Int64) async {
        if state.withLock({ state in defer { state.pending = false }; return state.pending }) { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: .milliseconds(milliseconds))
            if !Task.isCancelled { signal() }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
        timer.cancel()
        state.withLock { $0.pending = false }
    }
}
