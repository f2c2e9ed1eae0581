#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StreamStoreTestSupport
import Testing

@testable import stream_tool

/// Progress and colour are for people at a terminal only (CLI.md, "Global"; issue #9): these
/// run the tool with stderr (and stdout, when asked) on a pseudo-terminal.
@Suite(.timeLimit(.minutes(5))) struct TerminalTests {
    @Test func progressShowsOnATerminalWithRateAndETAAndNowhereElse() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t", "--flush", "never"])
        let input = tool.folder.appendingPathComponent("input.txt")
        try Data((0..<200_000).map { "value \($0)\n" }.joined().utf8).write(to: input)

        let produced = try await runOnTerminal(tool, ["produce", "t", "--input", input.path])
        #expect(produced.status == 0)
        #expect(produced.terminal.contains("producing to t:"))
        #expect(produced.terminal.contains("records/s"))
        #expect(produced.terminal.contains("\u{1B}[K"), "the progress line is cleared when done")
        #expect(produced.terminal.contains("Produced 200,000 records"))

        // The same to a file: the summary only.
        let quiet = try await tool.run(["produce", "t", "--input", input.path])
        #expect(quiet.stderrLines.count == 1 && quiet.stderr.hasPrefix("Produced 200,000 records"))
        #expect(!quiet.stderr.contains("\u{1B}"))

        let verified = try await runOnTerminal(tool, ["verify"])
        #expect(verified.status == 0)
        #expect(verified.terminal.contains("verifying t/0:") && verified.terminal.contains(" of "))

        // Replay to a file shows progress; replay to the terminal does not (its rows would tear it).
        let toFile = try await runOnTerminal(tool, ["replay", "t", "--format", "value"])
        #expect(toFile.status == 0)
        #expect(toFile.terminal.contains("replaying t:") && toFile.terminal.contains("of 400,000 records"))
        #expect(toFile.stdout.split(separator: "\n").count == 400_000)
        let toTerminal = try await runOnTerminal(tool, ["replay", "t", "--limit", "3"], stdoutOnTerminal: true)
        #expect(toTerminal.status == 0)
        #expect(!toTerminal.terminal.contains("replaying"))
        #expect(toTerminal.terminal.contains("value 2"))
    }

    @Test func etaIsWordedToTheSecond() {
        #expect(ProgressText.eta(50, of: 100, seconds: 10) == ", ETA 10s")
        #expect(ProgressText.eta(1, of: 1000, seconds: 1) == ", ETA 16m 39s")
        #expect(ProgressText.eta(1, of: 10_000, seconds: 1) == ", ETA 2h 46m")
        #expect(ProgressText.eta(100, of: 100, seconds: 10) == "")
        #expect(ProgressText.eta(0, of: 100, seconds: 10) == "")
        #expect(ProgressText.eta(10, of: nil, seconds: 10) == "")
        #expect(ProgressText.count(250, of: 1000, unit: "records", seconds: 0.5) == "250 of 1,000 records (25%), 500 records/s, ETA 2s")
    }

    @Test func colourOnlyOnATerminalAndNeverWithNoColor() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        let red = "\u{1B}[1;31merror:\u{1B}[0m There is no topic nope"

        let coloured = try await runOnTerminal(tool, ["replay", "nope"])
        #expect(coloured.status == 1)
        #expect(coloured.terminal.contains(red))

        for environment in [["NO_COLOR": "1"], ["TERM": "dumb"]] {
            let plain = try await runOnTerminal(tool, ["replay", "nope"], environment: environment)
            #expect(plain.status == 1)
            #expect(plain.terminal.contains("error: There is no topic nope"), "\(environment)")
            #expect(!plain.terminal.contains("\u{1B}["), "\(environment)")
        }

        // Not a terminal: plain, whatever the environment says.
        let piped = try await tool.run(["replay", "nope"])
        #expect(piped.stderr.hasPrefix("error: There is no topic nope"))

        // verify's status column is green on a terminal.
        let verified = try await runOnTerminal(tool, ["verify"], stdoutOnTerminal: true)
        #expect(verified.terminal.contains("\u{1B}[32mok\u{1B}[0m"))
        let noColour = try await runOnTerminal(tool, ["verify"], stdoutOnTerminal: true, environment: ["NO_COLOR": "yes"])
        #expect(!noColour.terminal.contains("\u{1B}[32m") && noColour.terminal.contains("ok"))
    }

    // MARK: Running on a pseudo-terminal

    struct TerminalResult {
        var status: Int32
        /// Everything the terminal showed (stderr, and stdout when it was on the terminal too).
        var terminal: String
        /// stdout when it went to a file.
        var stdout: String
    }

    /// Runs the tool with stderr on a new pseudo-terminal (stdout too when `stdoutOnTerminal`,
    /// else a file), `TERM=xterm` and no `NO_COLOR` unless `environment` says otherwise.
    func runOnTerminal(
        _ tool: ToolRunner, _ arguments: [String], stdoutOnTerminal: Bool = false, environment: [String: String] = [:]
    ) async throws -> TerminalResult {
        let terminal = try PseudoTerminal()
        let outputURL = tool.folder.appendingPathComponent("stdout-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let stdoutFile = try FileHandle(forWritingTo: outputURL)
        defer { try? stdoutFile.close() }

        let process = Process()
        process.executableURL = try ToolRunner.executable()
        process.arguments = arguments + ["--store", tool.store]
        var merged = ProcessInfo.processInfo.environment
        merged["STREAM_STORE_DIR"] = nil
        merged["NO_COLOR"] = nil
        merged["TERM"] = "xterm"
        merged["COLUMNS"] = "200"
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.currentDirectoryURL = tool.folder
        let follower = FileHandle(fileDescriptor: terminal.follower, closeOnDealloc: false)
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardError = follower
        process.standardOutput = stdoutOnTerminal ? follower : stdoutFile
        let reading = terminal.startReading()
        let exit = ProcessExit(process)
        try process.run()
        // Only the child holds the terminal now: the leader's reads end when it exits.
        terminal.closeFollower()
        #expect(await exit.wait(seconds: ToolRunner.runSeconds), "stream-tool did not exit and was killed")
        let shown = reading.wait()
        return TerminalResult(
            status: process.terminationStatus, terminal: shown,
            stdout: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self))
    }
}

/// A pseudo-terminal pair: the tool writes to the follower, the test reads the leader.
private final class PseudoTerminal: @unchecked Sendable {
    let leader: Int32
    private(set) var follower: Int32

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init() throws {
        leader = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        guard leader >= 0, Self.call("grantpt", leader) == 0, Self.call("unlockpt", leader) == 0 else {
            throw Failure(description: "no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        var name = [CChar](repeating: 0, count: 128)
        guard Self.followerName(leader, &name) == 0 else { throw Failure(description: "ptsname_r failed") }
        let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        follower = open(path, O_RDWR | O_NOCTTY)
        guard follower >= 0 else { throw Failure(description: "cannot open \(path)") }
    }

    // grantpt, unlockpt and ptsname_r are in the C library but hidden from Swift's Glibc module
    // (they need _XOPEN_SOURCE), so they are looked up by name.
    private static func call(_ function: String, _ fd: Int32) -> Int32 {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), function) else { return -1 }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)(fd)
    }

    private static func followerName(_ fd: Int32, _ name: inout [CChar]) -> Int32 {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "ptsname_r") else { return -1 }
        let function = unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32).self)
        let count = name.count
        return name.withUnsafeMutableBufferPointer { function(fd, $0.baseAddress, count) }
    }

    deinit {
        closeFollower()
        close(leader)
    }

    func closeFollower() {
        if follower >= 0 { close(follower) }
        follower = -1
    }

    /// Reads the leader on another thread until every follower is closed, so a chatty child
    /// never blocks on a full terminal buffer.
    func startReading() -> Reading {
        let reading = Reading()
        let leader = self.leader
        Thread.detachNewThread {
            var collected: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(leader, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                collected.append(contentsOf: buffer[0..<count])
            }
            reading.finish(String(decoding: collected, as: UTF8.self))
        }
        return reading
    }

    final class Reading: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var text = ""

        func finish(_ text: String) {
            self.text = text
            done.signal()
        }

        func wait() -> String {
            done.wait()
            return text
        }
    }
}
