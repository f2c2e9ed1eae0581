#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import StreamStore
import Synchronization

/// Turns SIGINT (Ctrl-C) and SIGTERM into cancellation of a piece of work, so a long-running
/// command (`replay --follow`) ends the way it ends on its own: its replay sequence returns
/// nil, it flushes its output, commits its offsets and closes the store.
///
/// The signals are caught only while the work runs; before and after, they have their default
/// effect again.
enum Interruption {
    /// Which signal ended the work, if one did.
    final class Received: Sendable {
        private let number = Atomic<Int32>(0)

        /// The signal's number, or nil when none arrived.
        var signal: Int32? {
            let value = number.load(ordering: .acquiring)
            return value == 0 ? nil : value
        }

        fileprivate func record(_ signal: Int32) {
            number.store(signal, ordering: .releasing)
        }
    }

    static let handledSignals: [Int32] = [SIGINT, SIGTERM]

    /// Runs `work` in a task that SIGINT and SIGTERM cancel; `received` says whether one did.
    /// A second signal while the work winds down does nothing more: the work is already
    /// cancelled, and cutting its last flush and commit short would lose what it printed.
    static func cancellingOnSignals<T: Sendable>(
        _ received: Received, _ work: sending @escaping () async throws -> T
    ) async throws -> T {
        // The handlers go in before the work starts: a signal that came while the work ran but
        // before they were in would end the process with the default action.
        let started = Locked<Task<T, any Error>?>(nil)
        var sources: [any DispatchSourceSignal] = []
        for number in handledSignals {
            // Dispatch sees a signal only when its default action (ending the process) is off.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                received.record(number)
                started.withLock { $0 }?.cancel()
            }
            source.resume()
            sources.append(source)
        }
        let task = Task { try await work() }
        started.withLock { $0 = task }
        // A signal between the handlers and the task: nothing cancelled it yet.
        if received.signal != nil { task.cancel() }
        defer {
            for source in sources { source.cancel() }
            for number in handledSignals { signal(number, SIG_DFL) }
        }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }
}
