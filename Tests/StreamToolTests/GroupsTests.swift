import Foundation
import StreamStoreTestSupport
import Testing

/// `replay --group/--commit` and `groups list|lag|reset`: consumer groups from the command line.
@Suite(.timeLimit(.minutes(5))) struct GroupsTests {
    /// `t` with 2 partitions: 3 records in partition 0 (a0 a1 a2), 2 in partition 1 (b0 b1).
    static func makeTopic(_ tool: ToolRunner) async throws {
        try await tool.succeed(["create", "t", "--partitions", "2"])
        try await tool.succeed(["produce", "t", "--partition", "0"], input: "a0\na1\na2\n")
        try await tool.succeed(["produce", "t", "--partition", "1"], input: "b0\nb1\n")
    }

    static func values(_ tool: ToolRunner, _ arguments: [String]) async throws -> [String] {
        try await tool.succeed(["replay", "t", "--format", "value"] + arguments).stdoutLines
    }

    /// `groups lag GROUP --json`, the partitions of its one topic by number.
    static func lag(_ tool: ToolRunner, group: String) async throws -> [Int: [String: Any]] {
        let document = try jsonObject(try await tool.succeed(["groups", "lag", group, "--json"]).stdout)
        let topic = try #require(((document["groups"] as? [[String: Any]])?.first?["topics"] as? [[String: Any]])?.first)
        let partitions = try #require(topic["partitions"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: partitions.map { ($0["partition"] as? Int ?? -1, $0) })
    }

    @Test func aCommittingReplayPrintsEachRecordOnceAndLeavesNoLag() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeTopic(tool)
        #expect(try await Self.values(tool, ["--group", "g", "--commit"]) == ["a0", "a1", "a2", "b0", "b1"])
        #expect(try await Self.values(tool, ["--group", "g", "--commit"]) == [], "a second replay of the group prints nothing new")
        let lag = try await Self.lag(tool, group: "g")
        #expect(lag[0]?["committedOffset"] as? Int == 3 && lag[0]?["lagRecords"] as? Int == 0)
        #expect(lag[1]?["committedOffset"] as? Int == 2 && lag[1]?["lagRecords"] as? Int == 0)

        try await tool.succeed(["produce", "t", "--partition", "1"], input: "b2\n")
        #expect(try await Self.lag(tool, group: "g")[1]?["lagRecords"] as? Int == 1)
        #expect(try await Self.values(tool, ["--group", "g", "--commit"]) == ["b2"])
        // Without --commit the group only says where to start; nothing moves.
        try await tool.succeed(["produce", "t", "--partition", "0"], input: "a3\n")
        #expect(try await Self.values(tool, ["--group", "g"]) == ["a3"])
        #expect(try await Self.values(tool, ["--group", "g"]) == ["a3"])
    }

    @Test func commitCoversOnlyWhatWasPrinted() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeTopic(tool)
        #expect(try await Self.values(tool, ["--group", "g", "--commit", "--limit", "2"]) == ["a0", "a1"])
        #expect(try await Self.values(tool, ["--group", "g", "--commit", "--partition", "0"]) == ["a2"])
        #expect(try await Self.values(tool, ["--group", "g", "--commit"]) == ["b0", "b1"])
        // --until-offset stops short of the end: the commit stops there too.
        try await tool.succeed(["produce", "t", "--partition", "0"], input: "a3\na4\n")
        #expect(try await Self.values(tool, ["--group", "g", "--commit", "--until-offset", "4"]) == ["a3"])
        #expect(try await Self.lag(tool, group: "g")[0]?["committedOffset"] as? Int == 4)
    }

    @Test func recordsAPipeReaderMayNotHaveReadAreNotCommitted() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        // About 400 KB of values: more than one write to a pipe whose reader takes 10 bytes.
        try await tool.succeed(["produce", "t"], input: (0..<4000).map { "\($0) \(String(repeating: "x", count: 100))\n" }.joined())
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", #""$0" replay t --store "$1" --group g --commit --format value | head -c 10 > /dev/null"#, try ToolRunner.executable().path, tool.store]
        let exit = ProcessExit(shell)
        try shell.run()
        #expect(await exit.wait(seconds: ToolRunner.runSeconds), "the pipeline did not exit and was killed")
        #expect(shell.terminationStatus == 0)
        #expect(try await Self.lag(tool, group: "g")[0]?["lagRecords"] as? Int == 4000, "the first write to the pipe failed, so nothing is committed")
        #expect(try await tool.succeed(["replay", "t", "--group", "g", "--format", "value", "--limit", "1"]).stdout.hasPrefix("0 x"))
    }

    @Test func fromFlagsStartOnlyThePartitionsTheGroupNeverCommitted() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeTopic(tool)
        #expect(try await Self.values(tool, ["--group", "g", "--commit", "--partition", "0", "--limit", "1"]) == ["a0"])
        // Partition 0 continues from its commit; partition 1, never committed, starts at its end.
        #expect(try await Self.values(tool, ["--group", "g", "--commit", "--from-end"]) == ["a1", "a2"])
        #expect(try await Self.lag(tool, group: "g")[1]?["committedOffset"] as? Int == 2, "the starting position of partition 1 is committed")
        try await tool.succeed(["produce", "t", "--partition", "1"], input: "b2\n")
        #expect(try await Self.values(tool, ["--group", "g", "--from-beginning"]) == ["b2"])
    }

    @Test func unknownGroupsAreOneErrorLine() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeTopic(tool)
        let unknown = try await tool.fail(["replay", "t", "--group", "nope"])
        #expect(unknown.contains("There is no consumer group nope") && unknown.contains("`stream-tool groups list` shows the groups"))
        #expect(try await tool.fail(["groups", "lag", "nope"]).contains("There is no consumer group nope"))
        #expect(try await tool.fail(["groups", "reset", "nope", "t", "--to-beginning"]).contains("There is no consumer group nope"))
        #expect(try await tool.fail(["replay", "t", "--group", "bad/name", "--commit"]).contains("not a valid group name"))
        try await tool.succeed(["replay", "t", "--group", "g", "--commit"])
        #expect(try await tool.fail(["groups", "reset", "g", "nope", "--to-end"]).contains("There is no topic nope"))
        #expect(try await tool.fail(["groups", "reset", "g", "t", "--to-end", "--partition", "5"]).contains("partition"))

        let usage = try await tool.run(["replay", "t", "--commit"])
        #expect(usage.status == 64 && usage.stderr.contains("--commit needs --group"))
        let twoTargets = try await tool.run(["groups", "reset", "g", "t", "--to-end", "--to-offset", "1"])
        #expect(twoTargets.status == 64 && twoTargets.stderr.contains("exactly one of"))
    }

    @Test func listLagAndResetAsTextAndJSON() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeTopic(tool)
        #expect(try await tool.succeed(["groups", "list"]).stdout.hasPrefix("No consumer groups."))
        #expect(try jsonObject(try await tool.succeed(["groups", "list", "--json"]).stdout)["groups"] as? [Any] != nil)
        try await tool.succeed(["replay", "t", "--group", "billing", "--commit", "--limit", "2"])
        try await tool.succeed(["replay", "t", "--group", "audit", "--commit"])

        let list = try await tool.succeed(["groups", "list"]).stdoutLines
        #expect(list == ["GROUP    TOPICS", "audit    t", "billing  t"])
        let listed = try jsonObject(try await tool.succeed(["groups", "list", "--json"]).stdout)
        let groups = try #require(listed["groups"] as? [[String: Any]])
        #expect(groups.map { $0["name"] as? String } == ["audit", "billing"])
        #expect(groups.first?["topics"] as? [String] == ["t"])

        // Lag of every group: a row per partition and one for the topic, with the columns lined up.
        let text = try await tool.succeed(["groups", "lag"]).stdoutLines
        #expect(text.first?.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") == "GROUP TOPIC PARTITION COMMITTED LOG END LAG LAG TIME COMMITTED AT")
        let billing = text.filter { $0.hasPrefix("billing") }.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(billing.count == 3)
        #expect(billing.first?.prefix(6) == ["billing", "t", "0", "2", "3", "1"])
        #expect(billing.last?.prefix(4) == ["billing", "t", "all", "3"])
        // LAG TIME is right-aligned: every row has a character where its title ends.
        let titles = try #require(text.first)
        let lagTimeEnd = titles.distance(from: titles.startIndex, to: try #require(titles.range(of: "LAG TIME")).upperBound) - 1
        #expect(text.allSatisfy { $0.count > lagTimeEnd && Array($0)[lagTimeEnd] != " " }, "\(text)")

        let lag = try await Self.lag(tool, group: "billing")
        #expect(lag[0]?["lagRecords"] as? Int == 1 && lag[0]?["logEndOffset"] as? Int == 3)
        #expect(lag[1]?["committedOffset"] as? Int == 0 && lag[1]?["lagRecords"] as? Int == 2)
        #expect((lag[1]?["lagMilliseconds"] as? Int ?? -1) >= 0 && (lag[0]?["committedTimestamp"] as? Int ?? 0) > 1_700_000_000_000)
        #expect(lag[0]?["committedBelowLogStart"] as? Bool == false)
        let all = try jsonObject(try await tool.succeed(["groups", "lag", "--json"]).stdout)
        #expect((all["groups"] as? [[String: Any]])?.map { $0["name"] as? String } == ["audit", "billing"])

        // Reset prints each partition's old and new offset, and the next replay starts there.
        let reset = try await tool.succeed(["groups", "reset", "billing", "t", "--to-beginning"]).stdoutLines
        #expect(reset.first == "Group billing on t: committed offsets moved to the log start.")
        #expect(reset.dropFirst().map { $0.split(separator: " ").map(String.init) } == [["PARTITION", "OLD", "OFFSET", "NEW", "OFFSET"], ["0", "2", "0"], ["1", "0", "0"]])
        #expect(try await Self.values(tool, ["--group", "billing"]) == ["a0", "a1", "a2", "b0", "b1"])

        let moved = try jsonObject(try await tool.succeed(["groups", "reset", "billing", "t", "--to-offset", "1", "--partition", "1", "--json"]).stdout)
        #expect(moved["group"] as? String == "billing" && moved["topic"] as? String == "t")
        let partitions = try #require(moved["partitions"] as? [[String: Any]])
        #expect(partitions.count == 1 && partitions[0]["partition"] as? Int == 1)
        #expect(partitions[0]["oldOffset"] as? Int == 0 && partitions[0]["newOffset"] as? Int == 1)
        #expect(try await Self.values(tool, ["--group", "billing", "--partition", "1"]) == ["b1"])

        try await tool.succeed(["groups", "reset", "audit", "t", "--to-end"])
        #expect(try await Self.lag(tool, group: "audit").values.allSatisfy { $0["lagRecords"] as? Int == 0 })
        try await tool.succeed(["groups", "reset", "audit", "t", "--to-time", "2000-01-01T00:00:00Z"])
        #expect(try await Self.lag(tool, group: "audit")[0]?["committedOffset"] as? Int == 0)
    }
}
