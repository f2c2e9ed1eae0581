import Foundation
import StreamStoreTestSupport

/// Runs the tool as a process left running (`replay --follow`), to be watched while other runs
/// change the store, then stopped with a signal the way a person or a service manager stops it.
extension ToolRunner {
    final class Background {
        let process: Process
        let outputURL: URL
        let errorURL: URL
        private let exit: ProcessExit

        fileprivate init(process: Process, exit: ProcessExit, outputURL: URL, errorURL: URL) {
            self.process = process
            self.exit = exit
            self.outputURL = outputURL
            self.errorURL = errorURL
        }

        var stdout: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }
        var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

        /// Waits until stdout has `line` as a whole line; false after `seconds`. Polled: the
        /// output is a file another process writes, which signals nothing here.
        func waitForLine(_ line: String, seconds: Double = 20) async -> Bool {
            await waitForOutput(seconds: seconds) { $0.split(separator: "\n").contains { $0 == line } }
        }

        /// Waits until stdout contains `text`; false after `seconds`.
        func waitForOutput(containing text: String, seconds: Double = 20) async -> Bool {
            await waitForOutput(seconds: seconds) { $0.contains(text) }
        }

        private func waitForOutput(seconds: Double, until found: (String) -> Bool) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if found(stdout) { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return false
        }

        /// Sends `signal` (SIGINT is what Ctrl-C sends).
        func send(_ signal: Int32) {
            kill(process.processIdentifier, signal)
        }

        /// Waits for the process to exit and returns its status, or nil after `seconds` (the
        /// process is then killed, so a failing test never leaves it behind).
        func waitForExit(seconds: Double = 20) async -> Int32? {
            await exit.wait(seconds: seconds) ? process.terminationStatus : nil
        }
    }

    /// Starts `stream-tool ARGS --store STORE` and returns at once.
    func start(_ arguments: [String]) throws -> Background {
        let id = UUID().uuidString
        let outputURL = folder.appendingPathComponent("stdout-\(id)")
        let errorURL = folder.appendingPathComponent("stderr-\(id)")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = arguments + ["--store", store]
        var environment = ProcessInfo.processInfo.environment
        environment["STREAM_STORE_DIR"] = nil
        process.environment = environment
        process.currentDirectoryURL = folder
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        let exit = ProcessExit(process)
        try process.run()
        return Background(process: process, exit: exit, outputURL: outputURL, errorURL: errorURL)
    }
}
