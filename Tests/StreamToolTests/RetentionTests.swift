import Foundation
import Testing

/// `retention`, and the retention settings of `create`, `alter` and `describe`.
@Suite(.timeLimit(.minutes(5))) struct RetentionTests {
    /// `r`: segments of 4 KiB and 8 KiB kept per partition; four appends of 100 records (about
    /// 6 KB each) make four segments, offsets 0, 100, 200 and 300 (the active one).
    static func makeFourSegments(_ tool: ToolRunner) async throws {
        try await tool.succeed(["create", "r", "--segment-bytes", "4KiB", "--retention-bytes", "8KiB", "--retention", "unlimited"])
        for append in 0..<4 {
            let lines = (0..<100).map { "append \(append) record \($0) with padding to make the batch a few kilobytes\n" }.joined()
            try await tool.succeed(["produce", "r"], input: lines)
        }
        #expect(try tool.logFiles("r").count == 4)
    }

    @Test func dryRunListsWhatTheRealRunThenDeletes() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeFourSegments(tool)
        try await tool.succeed(["replay", "r", "--group", "slow", "--commit", "--limit", "1"])

        let dryText = try await tool.succeed(["retention", "r", "--dry-run"]).stdout
        #expect(dryText.contains("would delete") && dryText.contains("the partition is over its retention-bytes of 8.0 KiB"))
        #expect(dryText.contains("kept") && dryText.contains("the active segment"))
        #expect(dryText.contains("Dry run: 3 segments"))
        let dry = try jsonObject(try await tool.succeed(["retention", "r", "--dry-run", "--json"]).stdout)
        #expect(dry["dryRun"] as? Bool == true && dry["deletedSegments"] as? Int == 3)
        let wouldBe = try #require((dry["partitions"] as? [[String: Any]])?.first)
        #expect(wouldBe["logStartOffsetBefore"] as? Int == 0 && wouldBe["logStartOffset"] as? Int == 300)
        let wouldDelete = try #require(wouldBe["deleted"] as? [[String: Any]])
        #expect(wouldDelete.map { $0["baseOffset"] as? Int } == [0, 100, 200])
        #expect(wouldDelete.allSatisfy { $0["reason"] as? String == "size" && ($0["bytes"] as? Int ?? 0) > 4096 })
        #expect((wouldBe["kept"] as? [[String: Any]])?.map { $0["baseOffset"] as? Int } == [300])
        #expect(try tool.logFiles("r").count == 4, "a dry run deletes nothing")
        #expect(try await tool.succeed(["replay", "r", "--format", "value", "--limit", "1"]).stdout.hasPrefix("append 0 record 0 "))

        let real = try jsonObject(try await tool.succeed(["retention", "r", "--json"]).stdout)
        #expect(real["dryRun"] as? Bool == false && real["deletedSegments"] as? Int == 3)
        let done = try #require((real["partitions"] as? [[String: Any]])?.first)
        #expect((done["deleted"] as? [[String: Any]])?.map { $0["baseOffset"] as? Int } == wouldDelete.map { $0["baseOffset"] as? Int })
        #expect(done["logStartOffset"] as? Int == 300)
        #expect(try tool.logFiles("r").count == 1)
        #expect(try await tool.succeed(["replay", "r", "--format", "value", "--limit", "1"]).stdout.hasPrefix("append 3 record 0 "))
        let described = try jsonObject(try await tool.succeed(["describe", "r", "--json"]).stdout)
        #expect(((described["topics"] as? [[String: Any]])?.first?["partitions"] as? [[String: Any]])?.first?["logStartOffset"] as? Int == 300)

        // Nothing is left to delete; the group that had not read the deleted records is told.
        let again = try await tool.succeed(["retention"]).stdout
        #expect(again.contains("Nothing to delete") && !again.contains("would delete"))
        let lag = try await tool.succeed(["groups", "lag", "slow"]).stdout
        #expect(lag.contains("retention removed records it had not processed (log start 300)"))
    }

    @Test func segmentsOlderThanTheRetentionGoByTime() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "old", "--segment-bytes", "4KiB", "--retention", "1d"])
        // Two segments of records from 2020, then one of records stamped now (the active one).
        for (index, timestamp) in [#","timestamp":"2020-01-01T00:00:00Z""#, #","timestamp":"2020-01-02T00:00:00Z""#, ""].enumerated() {
            let lines = (0..<60).map { #"{"value":"event \#(index)-\#($0) with padding to fill a batch of some kilobytes"\#(timestamp)}"# }
            try await tool.succeed(["produce", "old", "--format", "json"], input: lines.joined(separator: "\n"))
        }
        let text = try await tool.succeed(["retention", "old"]).stdout
        #expect(text.contains("deleted") && text.contains("its newest record is older than the retention of 1d"))
        #expect(text.contains("Deleted 2 segments"))
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("old") && $0.contains("deleted") }
        #expect(lines.count == 1, "consecutive segments deleted for the same reason share a row: \(text)")
        #expect(lines.first?.split(separator: " ").prefix(5) == ["old", "0", "0", "120", "2"])
        #expect(try await tool.succeed(["replay", "old", "--format", "json", "--limit", "1"]).stdout.contains(#""offset":120"#))
    }

    @Test func createDescribeAndAlterRetention() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let created = try await tool.succeed(["create", "t", "--retention", "30d", "--retention-bytes", "1GiB"]).stdout
        #expect(created.contains("retention 30d, retention-bytes 1.0 GiB"))
        let text = try await tool.succeed(["describe", "t"]).stdout
        #expect(text.contains("retentionMilliseconds=30d") && text.contains("retentionBytes=1.0 GiB"))
        var config = try await Self.config(tool, "t")
        #expect(config["retentionMilliseconds"] as? Int == 2_592_000_000 && config["retentionBytes"] as? Int == 1_073_741_824)
        #expect(try await tool.succeed(["create", "t", "--retention", "30d", "--retention-bytes", "1GiB"]).stdout.contains("already exists"))
        #expect(try await tool.fail(["create", "t"]).contains("retention is 30d, not 7d; retention-bytes is 1.0 GiB, not unlimited"))

        let altered = try await tool.succeed(["alter", "t", "--retention", "unlimited", "--retention-bytes", "none", "--compression", "zstd:1", "--flush", "never"])
        #expect(altered.stdoutLines.first == "Changed topic t:")
        let changes = altered.stdoutLines.dropFirst().map { $0.split(separator: " ").map(String.init) }
        #expect(changes == [["SETTING", "OLD", "NEW"], ["flush", "always", "never"], ["compression", "none", "zstd:1"], ["retention", "30d", "unlimited"], ["retention-bytes", "1.0", "GiB", "unlimited"]])
        config = try await Self.config(tool, "t")
        #expect(config["retentionMilliseconds"] as? Int == -1 && config["retentionBytes"] as? Int == -1)
        #expect(config["compression"] as? String == "zstd:1" && config["flush"] as? String == "never")
        #expect(try await tool.succeed(["describe", "t"]).stdout.contains("retentionBytes=unlimited retentionMilliseconds=unlimited"))
        #expect(try await tool.succeed(["alter", "t", "--retention", "none"]).stdout.hasPrefix("Topic t unchanged"))
        #expect(try await tool.succeed(["alter", "t", "--segment-bytes", "64KiB"]).stdout.contains("segment-bytes"))
        #expect(try await Self.config(tool, "t")["segmentBytes"] as? Int == 65_536)

        #expect(try await tool.fail(["alter", "t", "--retention", "0s"]).contains("must be positive"))
        #expect(try await tool.fail(["alter", "t", "--retention-bytes", "0"]).contains("write unlimited"))
        #expect(try await tool.fail(["alter", "t", "--segment-bytes", "1KiB"]).contains("--segment-bytes must be"))
        #expect(try await tool.fail(["alter", "t", "--compression", "lz4"]).contains("not a compression"))
        #expect(try await tool.fail(["alter", "nope", "--retention", "1d"]).contains("There is no topic nope"))
        #expect(try await Self.config(tool, "t")["retentionMilliseconds"] as? Int == -1, "a failed alter changes nothing")
        let usage = try await tool.run(["alter", "t"])
        #expect(usage.status == 64 && usage.stderr.contains("Give at least one setting"))
    }

    /// `describe TOPIC --json`'s config.
    static func config(_ tool: ToolRunner, _ topic: String) async throws -> [String: Any] {
        let described = try jsonObject(try await tool.succeed(["describe", topic, "--json"]).stdout)
        return try #require((described["topics"] as? [[String: Any]])?.first?["config"] as? [String: Any])
    }
}
