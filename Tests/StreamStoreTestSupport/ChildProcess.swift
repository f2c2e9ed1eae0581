import Foundation
import Testing

/// A child process whose standard output is collected line by line as it arrives, so a test can
/// await the lines it needs (woken by each arriving chunk, with a deadline) instead of sleeping.
/// Its standard error is collected too, for failure messages (``failure(_:)``).
/// Waits are awaited, not a blocked thread: the tests' few shared threads stay free.
package final class ChildProcess: @unchecked Sendable {
    package let process = Process()
    private let exit: ProcessExit
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var buffer = Data()
    private var lines: [String] = []
    private var ended = false
    private var errorBytes = Data()
    /// Signalled by the next chunk (or the end of the output); replaced by it.
    private var nextChange = TestEvent()

    package init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = try productURL(executable)
        process.arguments = arguments
        let pipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = pipe
        process.standardError = errorPipe
        exit = ProcessExit(process)
        try process.run()
        let errorDescriptor = errorPipe.fileHandleForReading.fileDescriptor
        let errorReader = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(errorDescriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                lock.withLock { errorBytes += chunk[0..<count] }
            }
            withExtendedLifetime(errorPipe) {}
        }
        errorReader.start()
        // A thread of its own reads until end of file: every byte the child wrote arrives, in
        // order, and the end is the real end (Foundation's readability handler lost tails here).
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        let reader = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                receive(Data(chunk[0..<count]))
            }
            receive(Data())
            withExtendedLifetime(pipe) {}
        }
        reader.start()
    }

    private func receive(_ chunk: Data) {
        let change: TestEvent = lock.withLock {
            if chunk.isEmpty {
                ended = true
            } else {
                buffer += chunk
                while let newline = buffer.firstIndex(of: 0x0A) {
                    lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
            }
            defer { nextChange = TestEvent() }
            return nextChange
        }
        change.signal()
    }

    /// Every whole line printed so far.
    package var output: [String] { lock.withLock { lines } }

    /// What the child wrote on its standard error so far.
    package var errorOutput: String { lock.withLock { String(decoding: errorBytes, as: UTF8.self) } }

    /// Whether the child ended because of `signal` (SIGKILL: the test's kill), not on its own.
    package func wasKilled(by signal: Int32 = SIGKILL) -> Bool {
        !process.isRunning && process.terminationReason == .uncaughtSignal && process.terminationStatus == signal
    }

    /// `what`, followed by how the child ended (or that it still runs) and its standard error:
    /// the message of a failed check about it.
    package func failure(_ what: String) -> Comment {
        let name = process.executableURL?.lastPathComponent ?? "child"
        let state: String
        if process.isRunning {
            state = "is still running"
        } else if process.terminationReason == .uncaughtSignal {
            state = "was killed by signal \(process.terminationStatus)"
        } else {
            state = "exited \(process.terminationStatus)"
        }
        let stderr = errorOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        return Comment(rawValue: "\(what): \(name) \(process.arguments?.prefix(2).joined(separator: " ") ?? "") \(state); stderr: \(stderr.isEmpty ? "(empty)" : stderr)")
    }

    /// Waits until `satisfied` holds for the lines printed so far, the output ends, or
    /// `seconds` pass; returns whether it holds.
    @discardableResult
    package func waitFor(seconds: Double = 60, _ satisfied: ([String]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let (holds, over, change) = lock.withLock { (satisfied(lines), ended, nextChange) }
            if holds { return true }
            if over { return false }
            guard await change.wait(seconds: deadline.timeIntervalSinceNow) else {
                return lock.withLock { satisfied(lines) }
            }
        }
    }

    /// Sends `signal` to the child while it runs (never to a pid it no longer owns).
    package func kill(_ signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
    }

    /// One round of a crash test: waits for the child's "ready" line, then for a line starting
    /// with `work` (proof the round did something: an acknowledged append, a commit), SIGKILLs
    /// it `killAfterMilliseconds` later and waits for its exit. Records an issue, with the
    /// child's exit status and stderr, when it never got ready, did no work, or ended on its
    /// own before the kill (an append that failed after recovery). Returns every line printed.
    ///
    /// The delay is what is under test, not a wait for the child: the kill lands at a moment the
    /// child did not choose. `work` nil: a round that may find nothing to do.
    @discardableResult
    package func crashRound(work: String?, killAfterMilliseconds: Int, sourceLocation: SourceLocation = #_sourceLocation) async -> [String] {
        guard await waitFor({ $0.contains("ready") }) else {
            kill()
            await waitForExit(seconds: 60)
            Issue.record(failure("the child never printed ready"), sourceLocation: sourceLocation)
            return output
        }
        if let work {
            guard await waitFor({ $0.contains { $0.hasPrefix(work) } }) else {
                kill()
                await waitForExit(seconds: 60)
                Issue.record(failure("the child printed no \"\(work)\" line: it did no work this round"), sourceLocation: sourceLocation)
                return output
            }
        }
        try? await Task.sleep(for: .milliseconds(killAfterMilliseconds))
        kill()
        await waitForExit(seconds: 60)
        if !wasKilled() { Issue.record(failure("the child ended before it was killed"), sourceLocation: sourceLocation) }
        return output
    }

    /// Waits for the process to exit (killing it past `seconds`) and for the last of its
    /// output; returns its status.
    @discardableResult
    package func waitForExit(seconds: Double = 120) async -> Int32 {
        _ = await exit.wait(seconds: seconds)
        await waitFor(seconds: 10) { _ in false }
        return process.terminationStatus
    }
}
