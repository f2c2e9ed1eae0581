import Foundation
import Testing

/// `replay --follow`: waits for records other processes append, and ends cleanly on a signal.
@Suite(.timeLimit(.minutes(5))) struct FollowTests {
    @Test func followPrintsRecordsAnotherProcessAppendsAndSIGINTEndsItWithStatusZero() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t", "--partitions", "2"])
        try await tool.succeed(["produce", "t", "--partition", "0"], input: "first\n")

        let follower = try tool.start(["replay", "t", "--follow", "--format", "value", "--group", "tail", "--commit"])
        #expect(await follower.waitForLine("first"), "the records already kept come first: \(follower.stderr)")
        // The follower leaves the store free between its reads, so producing works meanwhile.
        try await tool.succeed(["produce", "t", "--partition", "1"], input: "second\n")
        #expect(await follower.waitForLine("second"), "a record appended by another process shows up: \(follower.stderr)")
        try await tool.succeed(["produce", "t", "--partition", "0"], input: "third\n")
        #expect(await follower.waitForLine("third"))

        follower.send(SIGINT)
        #expect(await follower.waitForExit() == 0, "SIGINT ends --follow with status 0: \(follower.stderr)")
        #expect(follower.stdoutLines == ["first", "second", "third"])
        #expect(!follower.stderr.contains("error:"), "\(follower.stderr)")

        // Everything printed was committed before the exit.
        #expect(try await tool.succeed(["replay", "t", "--group", "tail", "--format", "value"]).stdout.isEmpty)
        let lag = try jsonObject(try await tool.succeed(["groups", "lag", "tail", "--json"]).stdout)
        let topic = try #require(((lag["groups"] as? [[String: Any]])?.first?["topics"] as? [[String: Any]])?.first)
        #expect(topic["lagRecords"] as? Int == 0)
    }

    @Test func sigtermEndsFollowToo() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        try await tool.succeed(["produce", "t"], input: "kept\n")
        let follower = try tool.start(["replay", "t", "--follow", "--format", "json"])
        #expect(await follower.waitForOutput(containing: #""value":"kept""#), "\(follower.stderr)")
        follower.send(SIGTERM)
        #expect(await follower.waitForExit() == 0, "\(follower.stderr)")
        #expect(try jsonObject(try #require(follower.stdoutLines.first))["value"] as? String == "kept")
    }

    @Test func followEndsByItselfAtTheLimit() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        try await tool.succeed(["produce", "t"], input: "old\n")
        // From offset 1: nothing kept is printed, so the follower waits for the appends. Once
        // it printed the first, it is following: the rest comes while it waits for the second.
        let follower = try tool.start(["replay", "t", "--follow", "--from-offset", "1", "--limit", "2", "--format", "value"])
        try await tool.succeed(["produce", "t"], input: "new 1\n")
        #expect(await follower.waitForLine("new 1"), "\(follower.stderr)")
        try await tool.succeed(["produce", "t"], input: "new 2\nnew 3\n")
        #expect(await follower.waitForExit() == 0, "\(follower.stderr)")
        #expect(follower.stdoutLines == ["new 1", "new 2"])
    }
}
