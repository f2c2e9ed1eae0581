import Foundation
import Testing

/// `create --dedupe-window`, `alter --dedupe-window`, and what `produce` says about duplicates.
@Suite(.timeLimit(.minutes(5))) struct DedupeCommandTests {
    @Test func produceLeavesOutRetriedMessagesAndPrintsTheOriginalOffsets() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let created = try await tool.succeed(["create", "orders", "--flush", "never", "--dedupe-window", "10m"])
        #expect(created.stdout.contains("dedupe-window 10m"))
        let first = """
            {"value":"a","headers":{"message-id":"m-1"}}
            {"value":"b","headers":{"message-id":"m-2"}}

            """
        #expect(try await tool.succeed(["produce", "orders", "--format", "json", "--print-offsets"], input: first).stdoutLines == ["0 0", "0 1"])
        let retry = """
            {"value":"b","headers":{"message-id":"m-2"}}
            {"value":"c","headers":{"message-id":"m-3"}}
            {"value":"no id"}

            """
        let produced = try await tool.succeed(["produce", "orders", "--format", "json", "--print-offsets"], input: retry)
        #expect(produced.stdoutLines == ["0 1", "0 2", "0 3"])
        #expect(produced.stderr.contains("Produced 2 records"), "\(produced.stderr)")
        #expect(produced.stderr.contains("1 duplicate left out"), "\(produced.stderr)")
        let values = try await tool.succeed(["replay", "orders", "--format", "value"]).stdoutLines
        #expect(values == ["a", "b", "c", "no id"])
    }

    @Test func theWindowCanBeChangedAndTurnedOff() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "orders"])
        let altered = try await tool.succeed(["alter", "orders", "--dedupe-window", "1h"])
        #expect(altered.stdout.contains("dedupe-window") && altered.stdout.contains("1h"), "\(altered.stdout)")
        let described = try await tool.succeed(["describe", "orders", "--json"])
        #expect(described.stdout.contains("dedupe"), "\(described.stdout)")
        let off = try await tool.succeed(["alter", "orders", "--dedupe-window", "off"])
        #expect(off.stdout.contains("off"), "\(off.stdout)")
        let mismatch = try await tool.fail(["create", "orders", "--dedupe-window", "5m"])
        #expect(mismatch.contains("dedupe-window is off, not 5m"), "\(mismatch)")
    }

    @Test func aBadWindowIsOneErrorLine() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let message = try await tool.fail(["create", "orders", "--dedupe-window", "soon"])
        #expect(message.hasPrefix("error: ") && message.contains("or off"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: tool.store + "/orders"))
    }
}
