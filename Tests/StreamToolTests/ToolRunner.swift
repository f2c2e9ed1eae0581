import Foundation
import StreamStoreTestSupport
import Testing

/// Runs the built `stream-tool` binary against a temporary store folder, the way a script
/// would: arguments in, exit status and the two output streams back.
///
/// Runs are awaited, never waited for with a blocked thread: a test blocked on a child process
/// holds one of the few threads Swift's concurrency runs every test on, and a full parallel
/// run on two cores then starved the other suites' tasks for half a minute.
struct ToolRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
        var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
        /// The lines of stderr that report an error; the CLI promises exactly one on failure.
        var errorLines: [String] { stderrLines.filter { $0.hasPrefix("error:") } }
    }

    /// A fresh folder for this test; the store lives in `store` inside it (not created yet).
    let folder: URL
    var store: String { folder.appendingPathComponent("store").path }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stream-tool-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func removeFolder() {
        try? FileManager.default.removeItem(at: folder)
    }

    /// How long one run may take before it counts as hung and is killed: far longer than any
    /// command of the tests needs, even on a loaded machine.
    static let runSeconds: Double = 120

    /// Runs `stream-tool ARGS --store STORE` (unless `addStore` is false) with `input` on stdin.
    @discardableResult
    func run(
        _ arguments: [String], input: Data = Data(), addStore: Bool = true, environment: [String: String] = [:], executable: URL? = nil
    ) async throws -> Result {
        let id = UUID().uuidString
        let inputURL = folder.appendingPathComponent("stdin-\(id)")
        let outputURL = folder.appendingPathComponent("stdout-\(id)")
        let errorURL = folder.appendingPathComponent("stderr-\(id)")
        try input.write(to: inputURL)
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        defer {
            for url in [inputURL, outputURL, errorURL] { try? FileManager.default.removeItem(at: url) }
        }

        let process = Process()
        process.executableURL = try executable ?? Self.executable()
        process.arguments = arguments + (addStore ? ["--store", store] : [])
        var merged = ProcessInfo.processInfo.environment
        merged["STREAM_STORE_DIR"] = nil
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.currentDirectoryURL = folder
        let stdin = try FileHandle(forReadingFrom: inputURL)
        let stdout = try FileHandle(forWritingTo: outputURL)
        let stderr = try FileHandle(forWritingTo: errorURL)
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let exit = ProcessExit(process)
        try process.run()
        if !(await exit.wait(seconds: Self.runSeconds)) {
            Issue.record("stream-tool \(arguments.joined(separator: " ")) did not exit within \(Self.runSeconds) s and was killed")
        }
        try? stdin.close()
        try? stdout.close()
        try? stderr.close()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
    }

    func run(_ arguments: [String], input: String) async throws -> Result {
        try await run(arguments, input: Data(input.utf8))
    }

    /// Runs and expects exit status 0; returns the result.
    @discardableResult
    func succeed(_ arguments: [String], input: String = "", sourceLocation: SourceLocation = #_sourceLocation) async throws -> Result {
        let result = try await run(arguments, input: Data(input.utf8))
        #expect(result.status == 0, "stream-tool \(arguments.joined(separator: " ")) failed: \(result.stderr)", sourceLocation: sourceLocation)
        return result
    }

    /// Runs and expects the CLI's runtime-error contract: status 1 and exactly one `error:` line.
    /// Returns that line.
    @discardableResult
    func fail(_ arguments: [String], input: Data = Data(), sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await run(arguments, input: input)
        #expect(result.status == 1, "expected exit 1 from \(arguments.joined(separator: " ")), got \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.errorLines.count == 1, "expected one error line, got: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
        return result.errorLines.first ?? ""
    }

    @discardableResult
    func fail(_ arguments: [String], input: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        try await fail(arguments, input: Data(input.utf8), sourceLocation: sourceLocation)
    }

    // MARK: Finding the binary

    /// `stream-tool` in the build products folder: a sibling of the test bundle, found by
    /// walking up from wherever this test process runs.
    static func executable() throws -> URL {
        var starts: [URL] = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0])]
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: exe))
        }
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            starts.append(bundle.bundleURL)
        }
        for start in starts {
            var folder = start.standardizedFileURL
            for _ in 0..<6 {
                let candidate = folder.appendingPathComponent("stream-tool")
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isFolder), !isFolder.boolValue,
                    FileManager.default.isExecutableFile(atPath: candidate.path)
                {
                    return candidate
                }
                folder = folder.deletingLastPathComponent()
            }
        }
        throw RunnerError(description: "stream-tool binary not found next to the test bundle (looked from \(starts.map(\.path)))")
    }

    struct RunnerError: Error, CustomStringConvertible {
        var description: String
    }
}

/// Parses one line of JSON output into a dictionary.
func jsonObject(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(line.utf8))
    return try #require(value as? [String: Any], "not a JSON object: \(line)", sourceLocation: sourceLocation)
}
