import Foundation
import StreamStoreTestSupport
import Testing

/// The README's stream-tool walkthrough (the shell block of "## stream-tool") runs as written,
/// line by line, against a fresh store that `make run`'s demo filled, and every command succeeds.
@Suite(.timeLimit(.minutes(5))) struct ReadmeWalkthroughTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")

    /// The commands of the first ```sh block after the "## stream-tool" heading.
    static func walkthrough() throws -> [String] {
        let lines = try String(contentsOf: readme, encoding: .utf8).components(separatedBy: "\n")
        guard let heading = lines.firstIndex(of: "## stream-tool"),
            let start = lines[heading...].firstIndex(of: "```sh"),
            let end = lines[(start + 1)...].firstIndex(of: "```")
        else { return [] }
        return Array(lines[(start + 1)..<end])
    }

    @Test(.tags(.slow)) func theStreamToolWalkthroughRunsAsWritten() async throws {
        let commands = try Self.walkthrough()
        #expect(commands.count >= 15)
        #expect(commands.first?.hasPrefix("alias stream-tool=") == true, "the block starts by naming the binary")
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        // The alias names the binary this test built; `make run` is the demo against ./stream-data.
        // A follower waits until Ctrl-C, so it is the one line not run (FollowTests covers it).
        var script = ["set -e", #"stream-tool() { "$STREAM_TOOL" "$@"; }"#, "stream-tool demo --records 20000 > /dev/null"]
        for command in commands.dropFirst() where !command.contains("--follow") {
            script.append("echo \"+ $(cat <<'LINE'\n\(command)\nLINE\n)\" >&2")
            script.append(command)
        }
        let result = try await tool.run(
            ["-c", script.joined(separator: "\n")], addStore: false, environment: ["STREAM_TOOL": try ToolRunner.executable().path],
            executable: URL(fileURLWithPath: "/bin/bash"))
        #expect(result.status == 0, "a walkthrough command failed:\n\(result.stderr.suffix(3000))")
        #expect(result.stdout.contains("ord-0-1"), "trace found the demo's order")
        #expect(result.stdout.contains("billing"), "groups lag shows the group the commands made")
        #expect(!result.stdout.contains("audit"))
    }
}
