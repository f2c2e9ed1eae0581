import Foundation

/// A child process whose standard output is collected line by line as it arrives, so a test can
/// await the lines it needs (woken by each arriving chunk, with a deadline) instead of sleeping.
/// Waits are awaited, not a blocked thread: the tests' few shared threads stay free.
package final class ChildProcess: @unchecked Sendable {
    package let process = Process()
    private let exit: ProcessExit
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var buffer = Data()
    private var lines: [String] = []
    private var ended = false
    /// Signalled by the next chunk (or the end of the output); replaced by it.
    private var nextChange = TestEvent()

    package init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = try productURL(executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        exit = ProcessExit(process)
        try process.run()
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

    package func kill(_ signal: Int32 = SIGKILL) {
        Foundation.kill(process.processIdentifier, signal)
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
