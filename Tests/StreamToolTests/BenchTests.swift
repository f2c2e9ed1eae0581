import Foundation
import Testing

/// `stream-tool bench append|replay|e2e`: small runs that finish quickly in a debug build.
@Suite(.timeLimit(.minutes(5))) struct BenchTests {
    /// Runs `bench ARGS` in a temporary store of its own (no `--store`) and parses its JSON.
    private func benchJSON(_ tool: ToolRunner, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let result = try await tool.run(["bench"] + arguments + ["--json"], addStore: false)
        #expect(result.status == 0, "bench \(arguments) failed: \(result.stderr)", sourceLocation: sourceLocation)
        let lines = result.stdoutLines
        try #require(lines.count == 1, "expected one JSON line, got: \(result.stdout)", sourceLocation: sourceLocation)
        return try jsonObject(lines[0], sourceLocation: sourceLocation)
    }

    private func number(_ object: [String: Any], _ key: String) -> Double {
        (object[key] as? NSNumber)?.doubleValue ?? -1
    }

    @Test func appendReportsRatesAndLatencies() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await benchJSON(tool, ["append", "--records", "20000"])
        #expect(result["bench"] as? String == "append")
        #expect(result["records"] as? Int == 20000)
        #expect(result["payloadBytes"] as? Int == 2_000_000)
        #expect(number(result, "recordsPerSecond") > 0)
        #expect(number(result, "megabytesPerSecond") > 0)
        let latency = try #require(result["appendLatencyMs"] as? [String: Any])
        for key in ["p50", "p99", "p99.9", "max"] {
            #expect(latency[key] is NSNumber, "missing \(key)")
        }
        #expect(latency["samples"] as? Int == 20)
        #expect(result["store"] is NSNull)
    }

    @Test func textOutputHasHeaderAndAlignedLines() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await tool.run(["bench", "append", "--records", "5000", "--partitions", "2", "--producers", "2"], addStore: false)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.first?.hasPrefix("bench append: 5,000 records of 100 B (pattern)") == true)
        #expect(lines.contains { $0.contains("records/s") })
        #expect(lines.contains { $0.contains("append latency p99.9") })
        #expect(result.stderr.isEmpty, "no progress line when stderr is not a terminal: \(result.stderr)")
    }

    @Test func replayReportsBothLevels() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await benchJSON(tool, ["replay", "--records", "10000", "--partitions", "3", "--producers", "2", "--batch-records", "500"])
        #expect(result["records"] as? Int == 10000)
        for key in ["append", "batchLevel", "recordLevel"] {
            let level = try #require(result[key] as? [String: Any], "missing \(key)")
            #expect(number(level, "seconds") > 0)
            #expect(number(level, "recordsPerSecond") > 0)
            #expect(number(level, "megabytesPerSecond") > 0)
        }
        // The fill is timed like `bench append`: one latency sample per batch of 500.
        let fill = try #require(result["append"] as? [String: Any])
        let latency = try #require(fill["appendLatencyMs"] as? [String: Any])
        #expect(latency["samples"] as? Int == 20)
        #expect(number(latency, "p50") >= 0)
    }

    /// The Kreps workload's shape (tools/peers): one producer into six partitions, then one pass
    /// that reads every partition back, with the fill and both reads timed in one JSON line.
    @Test func replayOfOneProducerIntoSixPartitions() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await benchJSON(tool, ["replay", "--records", "12345", "--partitions", "6", "--payload", "random"])
        #expect(result["partitions"] as? Int == 6)
        #expect(result["producers"] as? Int == 1)
        #expect(result["payloadBytes"] as? Int == 1_234_500)
        let fill = try #require(result["append"] as? [String: Any])
        #expect(number(fill, "recordsPerSecond") > 0)
        #expect(number(try #require(result["recordLevel"] as? [String: Any]), "recordsPerSecond") > 0)
    }

    @Test func endToEndReportsLatencies() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await benchJSON(tool, ["e2e", "--records", "10000", "--partitions", "2", "--producers", "2", "--batch-records", "200"])
        #expect(result["records"] as? Int == 10000)
        #expect(number(result, "recordsPerSecond") > 0)
        let latency = try #require(result["endToEndLatencyMs"] as? [String: Any])
        #expect(latency["samples"] as? Int == 10000)
        for key in ["p50", "p99", "p99.9", "max"] {
            #expect(number(latency, key) >= 0, "missing \(key)")
        }
    }

    @Test func zstdAndJSONPayloadWork() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await benchJSON(tool, ["append", "--records", "5000", "--compression", "zstd:1", "--payload", "json"])
        #expect(result["compression"] as? String == "zstd:1")
        #expect(result["payload"] as? String == "json")
        let perRecord = number(result, "recordBytes")
        #expect(perRecord > 200 && perRecord < 400)
        // Order events compress well.
        #expect(number(result, "storedBytes") < number(result, "payloadBytes"))
    }

    @Test func badValuesAreUsageErrors() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        for arguments in [
            ["append", "--records", "0"],
            ["replay", "--record-bytes", "-1"],
            ["e2e", "--partitions", "0"],
            ["append", "--compression", "lz4"],
            ["append", "--record-bytes", "100000", "--batch-records", "1000"],
        ] {
            let result = try await tool.run(["bench"] + arguments, addStore: false)
            #expect(result.status == 64, "bench \(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.lowercased().contains("error:"), "bench \(arguments): \(result.stderr)")
        }
    }

    @Test func givenStoreKeepsTheTopic() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let first = try await tool.run(["bench", "append", "--records", "3000", "--partitions", "2", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let object = try jsonObject(try #require(first.stdoutLines.first))
        let topic = try #require(object["topic"] as? String)
        #expect(topic.hasPrefix("bench-"))
        #expect(object["store"] as? String == tool.store)

        let topics = try await tool.succeed(["topics"])
        #expect(topics.stdout.contains(topic))
        let second = try await tool.succeed(["bench", "replay", "--records", "3000"])
        #expect(second.stdoutLines.first?.contains("topic bench-") == true)
        let after = try await tool.succeed(["topics"])
        #expect(after.stdoutLines.filter { $0.contains("bench-") }.count == 2, "\(after.stdout)")
    }

    @Test func aColdCacheReplayDropsThePageCacheOrSaysWhyItCannot() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let arguments = ["bench", "replay", "--records", "2000", "--payload", "json", "--compression", "zstd:1", "--cold-cache", "--json"]
        let result = try await tool.run(arguments, addStore: false)
        if getuid() == 0 {
            #expect(result.status == 0, "\(result.stderr)")
            let object = try jsonObject(try #require(result.stdoutLines.first))
            #expect((object["recordLevel"] as? [String: Any])?["recordsPerSecond"] is NSNumber)
        } else {
            #expect(result.status == 1)
            #expect(result.stderr.contains("error: --cold-cache cannot open /proc/sys/vm/drop_caches"))
        }
    }

    @Test func eventsTimesDecodingUpcastingAndTheSchemaCheck() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await benchJSON(tool, ["events", "--records", "1500", "--rounds", "1"])
        #expect(result["bench"] as? String == "events" && result["records"] as? Int == 1500)
        for key in ["replaySeconds", "decodeSeconds", "upcastSeconds", "schemaCheckSeconds", "upcastNanosecondsPerEvent"] {
            #expect(number(result, key) > 0, "\(key)")
        }
        // order-placed's rename (1 → 2) and its customer retyped (2 → 3).
        #expect(result["schemaCheckChanges"] as? Int == 2)
    }
}
