import Foundation
import Testing

/// Every help text, compared with its copy in `HelpGoldens/` (one text file per command, as
/// the tool prints it at 80 columns), so a change to a command's help is a deliberate, reviewed
/// change. After changing help on purpose, regenerate the copies:
///
///     STREAM_TOOL_UPDATE_GOLDENS=1 swift test --filter HelpTextTests
///
/// and read the diff of `HelpGoldens/` before committing it.
@Suite(.timeLimit(.minutes(5))) struct HelpTextTests {
    /// The commands whose help is pinned; `bench` belongs to the benchmark suite's own tests.
    static let commands: [[String]] = [
        [], ["create"], ["alter"], ["topics"], ["produce"], ["replay"], ["groups"], ["groups", "list"], ["groups", "lag"], ["groups", "reset"],
        ["dlq"], ["dlq", "list"], ["dlq", "redrive"], ["describe"], ["retention"], ["dump"], ["verify"], ["trace"], ["demo"], ["serve"],
        ["users"], ["users", "add"], ["users", "list"], ["users", "remove"],
        ["outbox"], ["outbox", "relay"], ["outbox", "status"], ["mirror"], ["schema"], ["schema", "check"], ["schema", "show"],
        ["sagas"], ["sagas", "list"], ["sagas", "show"],
    ]

    static func name(_ command: [String]) -> String {
        (["stream-tool"] + command).joined(separator: " ")
    }

    /// The help as a terminal 80 columns wide shows it (argument-parser wraps to the width).
    static func help(_ command: [String], tool: ToolRunner) async throws -> String {
        let result = try await tool.run(command + ["--help"], addStore: false, environment: ["COLUMNS": "80"])
        #expect(result.status == 0, "\(name(command)) --help exited \(result.status)")
        return result.stdout
    }

    @Test func helpTextsMatchTheirGoldenCopies() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        var texts: [(String, String)] = []
        for command in Self.commands {
            texts.append((Self.name(command), try await Self.help(command, tool: tool)))
        }
        if ProcessInfo.processInfo.environment["STREAM_TOOL_UPDATE_GOLDENS"] == "1" {
            try Self.writeGoldens(texts)
            return
        }
        for (name, text) in texts {
            let golden = try #require(
                try? String(contentsOf: Self.goldenURL(name), encoding: .utf8), "no golden help for \(name); regenerate HelpGoldens/ (see HelpTextTests)")
            #expect(text == golden, "\(name) --help changed; if on purpose, regenerate HelpGoldens/ (see HelpTextTests). Now:\n\(text)")
        }
        let stored = try FileManager.default.contentsOfDirectory(atPath: Self.goldensFolder.path).filter { $0.hasSuffix(".txt") }
        #expect(Set(stored) == Set(texts.map { Self.goldenURL($0.0).lastPathComponent }), "HelpGoldens/ has texts of commands that are gone")
    }

    @Test func everyCommandOfCLIContractIsListed() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let help = try await Self.help([], tool: tool)
        for command in ["create", "alter", "topics", "produce", "replay", "groups", "dlq", "describe", "retention", "dump", "verify", "trace", "schema", "outbox", "sagas", "demo", "bench"] {
            #expect(help.contains("\n  \(command) "), "--help does not list \(command)")
        }
    }

    @Test func completionScriptsAreGenerated() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        for shell in ["bash", "zsh", "fish"] {
            let result = try await tool.run(["--generate-completion-script", shell], addStore: false)
            #expect(result.status == 0, "\(shell): \(result.stderr)")
            for command in ["create", "replay", "dump", "verify"] {
                #expect(result.stdout.contains(command), "the \(shell) script does not complete \(command)")
            }
        }
    }

    static let goldensFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("HelpGoldens")

    /// `stream-tool groups lag` is in `HelpGoldens/stream-tool-groups-lag.txt`.
    static func goldenURL(_ name: String) -> URL {
        goldensFolder.appendingPathComponent(name.replacingOccurrences(of: " ", with: "-") + ".txt")
    }

    /// Replaces `HelpGoldens/` next to this file with `texts`.
    static func writeGoldens(_ texts: [(String, String)]) throws {
        try? FileManager.default.removeItem(at: goldensFolder)
        try FileManager.default.createDirectory(at: goldensFolder, withIntermediateDirectories: true)
        for (name, text) in texts {
            try Data(text.utf8).write(to: goldenURL(name))
        }
    }
}
