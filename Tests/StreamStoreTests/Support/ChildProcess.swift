import Foundation

/// A child process whose standard output is collected line by line as it arrives, so a test can
/// wait for the lines it needs (woken by each arriving chunk, with a deadline) instead of sleeping.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var buffer = Data()
    private var lines: [String] = []
    private var ended = false

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = try productURL(executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            self?.receive(chunk)
            if chunk.isEmpty { handle.readabilityHandler = nil }
        }
        try process.run()
    }

    private func receive(_ chunk: Data) {
        condition.withLock {
            if chunk.isEmpty {
                ended = true
            } else {
                buffer += chunk
                while let newline = buffer.firstIndex(of: 0x0A) {
                    lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
            }
            condition.broadcast()
        }
    }

    /// Every whole line printed so far.
    var output: [String] { condition.withLock { lines } }

    /// Waits until `satisfied` holds for the lines printed so far, the output ends, or
    /// `seconds` pass; returns whether it holds.
    @discardableResult
    func waitFor(seconds: Double = 60, _ satisfied: ([String]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        return condition.withLock {
            while !satisfied(lines) {
                if ended || !condition.wait(until: deadline) { return satisfied(lines) }
            }
            return true
        }
    }

    func kill(_ signal: Int32 = SIGKILL) {
        Foundation.kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and for the last of its output; returns its status.
    @discardableResult
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        waitFor(seconds: 10) { _ in false }
        return process.terminationStatus
    }
}
