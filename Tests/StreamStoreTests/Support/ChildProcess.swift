import Foundation

@testable import StreamStoreFormat

/// A running `stream-crash-child` whose output is collected as it comes (a thread drains the
/// pipe, so a chatty child never blocks on a full one), to be killed when the test says so.
final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Locked(Data())
    private let drained = DispatchSemaphore(value: 0)
    private let killed = Locked(false)

    init(arguments: [String]) throws {
        process.executableURL = try productURL("stream-crash-child")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        try process.run()
        let reader = pipe.fileHandleForReading
        Thread.detachNewThread { [output, drained] in
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                output.withLock { $0 += chunk }
            }
            drained.signal()
        }
    }

    var pid: Int32 { process.processIdentifier }

    /// The whole lines printed so far.
    var lines: [Substring] {
        let text = output.withLock { String(decoding: $0, as: UTF8.self) }
        let complete = text.hasSuffix("\n") ? Substring(text) : text[..<(text.lastIndex(of: "\n") ?? text.startIndex)]
        return complete.split(separator: "\n")
    }

    /// How many lines start with `word`.
    func count(of word: String) -> Int { lines.filter { $0.hasPrefix(word + " ") }.count }

    var isReady: Bool { lines.contains("ready") }

    /// SIGKILLs the child and waits until it is gone (its descriptors closed, its locks
    /// released) and its output read to the end. Once only: later calls return at once.
    func kill() {
        let first = killed.withLock { killed in
            defer { killed = true }
            return !killed
        }
        guard first else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        drained.wait()
    }
}
