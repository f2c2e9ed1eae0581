import Foundation
import Testing

/// `topics`, `describe`, `verify` and `demo`.
@Suite(.timeLimit(.minutes(5))) struct InspectTests {
    @Test func topicsListsOneNameALine() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "b"])
        try await tool.succeed(["create", "a.events_1"])
        #expect(try await tool.succeed(["topics"]).stdout == "a.events_1\nb\n")
    }

    @Test func describeShowsPartitionsAsTextAndJSON() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "orders", "--partitions", "2", "--flush", "never"])
        try await tool.succeed(["produce", "orders", "--partition", "1"], input: "a\nb\nc\n")

        let text = try await tool.succeed(["describe"]).stdout
        #expect(text.contains("Topic orders"))
        #expect(text.contains("flush=never") && text.contains("partitionCount=2"))
        #expect(text.contains("LOG START") && text.contains("LOG END") && text.contains("SEGMENTS") && text.contains("FIRST TIMESTAMP"))
        let row = try #require(text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("1 ") })
        #expect(row.split(separator: " ").prefix(5) == ["1", "0", "3", "3", "1"])

        let json = try jsonObject(try await tool.succeed(["describe", "orders", "--json"]).stdout)
        let topics = try #require(json["topics"] as? [[String: Any]])
        let topic = try #require(topics.first)
        #expect(topic["name"] as? String == "orders")
        #expect((topic["config"] as? [String: Any])?["partitionCount"] as? Int == 2)
        #expect((topic["config"] as? [String: Any])?["flush"] as? String == "never")
        let partitions = try #require(topic["partitions"] as? [[String: Any]])
        #expect(partitions.count == 2)
        #expect(partitions[0]["logEndOffset"] as? Int == 0)
        #expect(partitions[0]["firstTimestamp"] is NSNull)
        #expect(partitions[1]["logEndOffset"] as? Int == 3)
        #expect(partitions[1]["segmentCount"] as? Int == 1)
        #expect((partitions[1]["logBytes"] as? Int ?? 0) > 0)
        #expect((partitions[1]["lastTimestamp"] as? Int ?? 0) >= (partitions[1]["firstTimestamp"] as? Int ?? .max))
    }

    @Test func verifyPassesAGoodStoreAndExitsThreeOnACorruptByte() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t", "--partitions", "2"])
        let values = (0..<3000).map { "value number \($0) with some padding to make the batch longer\n" }.joined()
        try await tool.succeed(["produce", "t"], input: values)
        let good = try await tool.succeed(["verify"])
        #expect(good.stdout.contains("no problems"))
        #expect(good.stdoutLines.first?.hasPrefix("PARTITION  SEGMENT") == true)
        let goodJSON = try jsonObject(try await tool.succeed(["verify", "--json"]).stdout)
        #expect(goodJSON["problems"] as? Int == 0 && goodJSON["records"] as? Int == 3000 && goodJSON["segments"] as? Int == 2)

        // The CLI process has exited, so the store is closed: flip a byte inside the first batch.
        let log = URL(fileURLWithPath: tool.store).appendingPathComponent("t/0/00000000000000000000.log")
        var bytes = try Data(contentsOf: log)
        let batchLength = bytes[8..<12].reduce(0) { $0 << 8 | Int($1) }
        let middle = 12 + batchLength / 2
        bytes[middle] ^= 0xFF
        try bytes.write(to: log)

        let bad = try await tool.run(["verify", "t"])
        #expect(bad.status == 3)
        #expect(bad.stdout.contains("PROBLEM"))
        #expect(bad.stdout.contains("t/1") && bad.stdout.contains("ok"))
        #expect(bad.errorLines.isEmpty)
        let badRun = try await tool.run(["verify", "t", "--json"])
        #expect(badRun.status == 3)
        let badJSON = try jsonObject(badRun.stdout)
        let checked = try #require((badJSON["topics"] as? [[String: Any]])?.first?["partitions"] as? [[String: Any]])
        let segments = checked.map { ($0["segments"] as? [[String: Any]])?.first }
        #expect(((segments[0]?["problems"] as? [String]) ?? []).contains { $0.contains("CRC32C") })
        #expect((segments[1]?["problems"] as? [String]) == [])
        #expect((badJSON["problems"] as? Int ?? 0) >= 1)

        // describe still shows every partition; the damaged one's first timestamp is unknown
        // (it lives in the corrupt batch), its offsets are not.
        let described = try jsonObject(try await tool.succeed(["describe", "t", "--json"]).stdout)
        let partitions = try #require((described["topics"] as? [[String: Any]])?.first?["partitions"] as? [[String: Any]])
        #expect(partitions[0]["firstTimestamp"] is NSNull)
        #expect(partitions[0]["logEndOffset"] as? Int == 1500)
        #expect(partitions[1]["error"] == nil && partitions[1]["logEndOffset"] as? Int == 1500)
    }

    @Test func demoRunsTwiceAndKeepsAppending() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let first = try await tool.succeed(["demo", "--records", "2000"])
        #expect(first.stdout.contains("Appended 2,000 events"))
        #expect(first.stdout.contains("Replayed partition 0: 500 records"))
        #expect(first.stdout.contains("Rebuilt projection revenue-per-customer from a full replay of 2,000 events (no snapshot yet)"))
        #expect(first.stdout.contains("saved snapshot 1"))
        #expect(first.stdout.contains("TOP CUSTOMERS"))
        // Billing handles three quarters of each partition's 500 events.
        #expect(first.stdout.contains("Consumer group billing: 2 consumers handled 1,500 events"))
        #expect(first.stdout.contains("LAG TIME"))
        #expect(first.stdout.contains("STEP") && first.stdout.contains("EVENTS/S"))
        // Every fifth order's payment is declined: its stock is released.
        #expect(first.stdout.contains("Sagas: 200 orders"))
        #expect(first.stdout.contains("160 completed, 40 compensated (payment declined, stock released), 0 failed"))
        #expect(first.stdout.contains("stock reserved 200, released 40; payments charged 160, declined 40; shipped 160"))

        let second = try await tool.succeed(["demo", "--records", "2000"])
        #expect(second.stdout.contains("Replayed partition 0: 1,000 records"))
        #expect(second.stdout.contains("from snapshot 1 plus the 2,000 events after it"), "the second rebuild starts at the first's snapshot")
        // It continues from its commits: 125 left per partition plus 500 new, three quarters of that.
        #expect(second.stdout.contains("Consumer group billing: 2 consumers handled 1,872 events"))
        let lag = try jsonObject(try await tool.succeed(["groups", "lag", "billing", "--json"]).stdout)
        let orders = try #require(((lag["groups"] as? [[String: Any]])?.first?["topics"] as? [[String: Any]])?.first)
        #expect(orders["lagRecords"] as? Int == 4 * 157)
        #expect((orders["partitions"] as? [[String: Any]])?.allSatisfy { $0["committedOffset"] as? Int == 843 } == true)

        let record = try jsonObject(try #require(try await tool.succeed(["replay", "orders", "--limit", "1", "--format", "json"]).stdoutLines.first))
        let headers = try #require(record["headers"] as? [String: String])
        #expect(headers["event-type"] == "order-placed")
        #expect(headers["correlation-id"] != nil && headers["message-id"] != nil)
        let value = try #require((record["value"] as? String)?.utf8.count)
        #expect((150...400).contains(value))
        #expect(try await tool.succeed(["verify"]).stdout.contains("no problems"))
    }
}
