import Foundation
import Testing

/// Polls `condition` until it holds, for up to `seconds`, and records an issue if it never does.
///
/// The last resort, for a state change that signals nothing a test can wait on (a background
/// timer of the store, a consumer parked inside the engine, another process's output). Where
/// the test's own code makes the moment happen, wait on a ``TestEvent`` instead. The deadline
/// only guards against a hang, so it is generous: in a full parallel run on two cores, the
/// tests that block their threads (the CLI's processes) can keep a task from running for tens
/// of seconds.
package func waitUntil(seconds: Double = 60, _ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline {
            Issue.record("condition not met within \(seconds) s", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}
