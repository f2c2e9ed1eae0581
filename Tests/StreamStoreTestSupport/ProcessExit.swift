import Foundation

/// A child process's exit as an event: its termination handler, set before it runs, signals
/// it, so a test awaits the exit without polling or blocking a thread, with a deadline.
///
/// Tests must not block a thread on a child: every test runs on the same few threads (two on a
/// two-core machine), and one blocked there starves the other tests' tasks.
package final class ProcessExit: @unchecked Sendable {
    private let process: Process
    private let exited = TestEvent()

    /// Watches `process`, which must not be running yet.
    package init(_ process: Process) {
        self.process = process
        process.terminationHandler = { [exited] _ in exited.signal() }
    }

    /// Waits up to `seconds` for the exit; a child still running then is killed (SIGKILL), so
    /// a hung one never outlives its test. True when it exited in time.
    package func wait(seconds: Double) async -> Bool {
        if await exited.wait(seconds: seconds) { return true }
        kill(process.processIdentifier, SIGKILL)
        await exited.wait()
        return false
    }
}
