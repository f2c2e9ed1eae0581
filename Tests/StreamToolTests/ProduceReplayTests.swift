import Foundation
import Testing

/// Records go in with `produce` and come back out of `replay` unchanged.
@Suite(.timeLimit(.minutes(5))) struct ProduceReplayTests {
    @Test func jsonLinesRoundTripThroughReplay() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "events", "--partitions", "3"])
        let input = """
            {"key":"customer-1","value":"order placed \\u00e9\\n","headers":{"event-type":"order-placed","correlation-id":"c-1"},"timestamp":"2024-05-01T12:00:00Z","partition":0}
            {"keyBase64":"AAH/","valueBase64":"/wD+","timestamp":1714564800123,"partition":0}
            {"key":"customer-2","value":null,"partition":1}
            {"value":"no key","headers":{"h":null},"partition":2}

            """
        let produced = try await tool.succeed(["produce", "events", "--format", "json"], input: input)
        #expect(produced.stderr.contains("Produced 4 records"))

        let replay = try await tool.succeed(["replay", "events", "--format", "json"])
        let lines = replay.stdoutLines
        try #require(lines.count == 4)
        let first = try jsonObject(lines[0])
        #expect(first["topic"] as? String == "events")
        #expect(first["partition"] as? Int == 0)
        #expect(first["offset"] as? Int == 0)
        #expect(first["timestamp"] as? Int == 1_714_564_800_000)
        #expect(first["key"] as? String == "customer-1")
        #expect(first["value"] as? String == "order placed \u{e9}\n")
        #expect(first["headers"] as? [String: String] == ["event-type": "order-placed", "correlation-id": "c-1"])

        let binary = try jsonObject(lines[1])
        #expect(binary["offset"] as? Int == 1)
        #expect(binary["timestamp"] as? Int == 1_714_564_800_123)
        #expect(binary["keyBase64"] as? String == "AAH/")
        #expect(binary["valueBase64"] as? String == "/wD+")
        #expect(binary["key"] == nil && binary["value"] == nil)

        let tombstone = try jsonObject(lines[2])
        #expect(tombstone["partition"] as? Int == 1)
        #expect(tombstone["value"] is NSNull)

        let keyless = try jsonObject(lines[3])
        #expect(keyless["key"] is NSNull)
        #expect((keyless["headers"] as? [String: Any])?["h"] is NSNull)

        // Replay output is valid produce input: copy the topic and compare.
        try await tool.succeed(["create", "copy", "--partitions", "3"])
        try await tool.succeed(["produce", "copy", "--format", "json"], input: replay.stdout)
        let copied = try await tool.succeed(["replay", "copy", "--format", "json"])
        #expect(copied.stdout == replay.stdout.replacingOccurrences(of: "\"topic\":\"events\"", with: "\"topic\":\"copy\""))
    }

    @Test func valueFormatPrintsRawValuesAndTextFormatAligns() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "lines"])
        try await tool.succeed(["produce", "lines", "--key", "k", "--header", "source=test"], input: "alpha\nbeta\r\ngamma")
        let values = try await tool.succeed(["replay", "lines", "--format", "value"])
        #expect(values.stdout == "alpha\nbeta\ngamma\n")

        let text = try await tool.succeed(["replay", "lines", "--from-offset", "1", "--limit", "1"])
        #expect(text.stdoutLines.count == 2)
        #expect(text.stdoutLines[0].contains("OFFSET"))
        #expect(text.stdoutLines[1].contains("beta") && text.stdoutLines[1].contains("source=test"))
        // The value starts under its title.
        let titles = Array(text.stdoutLines[0].utf8)
        let row = Array(text.stdoutLines[1].utf8)
        let valueColumn = try #require(titles.firstRange(of: Array("VALUE".utf8))?.lowerBound)
        #expect(row.firstRange(of: Array("beta".utf8))?.lowerBound == valueColumn)
    }

    @Test func printOffsetsFollowsInputOrder() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t", "--partitions", "2"])
        let fixed = try await tool.succeed(["produce", "t", "--partition", "1", "--print-offsets"], input: "a\nb\nc\n")
        #expect(fixed.stdoutLines == ["1 0", "1 1", "1 2"])

        // Keyless records alternate between the partitions, wherever they start.
        let spread = try await tool.succeed(["produce", "t", "--print-offsets"], input: (1...4).map { "v\($0)\n" }.joined())
        let partitions = spread.stdoutLines.map { $0.split(separator: " ")[0] }
        #expect(partitions.count == 4)
        #expect(partitions[0] != partitions[1] && partitions[0] == partitions[2] && partitions[1] == partitions[3])

        // More records than a batch, interleaved across partitions: still one line per record, in order.
        let many = (0..<2500).map { #"{"key":"k\#($0 % 7)","value":"\#($0)"}"# }.joined(separator: "\n")
        let result = try await tool.succeed(["produce", "t", "--format", "json", "--print-offsets"], input: many)
        #expect(result.stdoutLines.count == 2500)
        let replay = try await tool.succeed(["replay", "t", "--format", "json"])
        var valueAt: [String: String] = [:]
        for line in replay.stdoutLines {
            let object = try jsonObject(line)
            valueAt["\(object["partition"] as? Int ?? -1) \(object["offset"] as? Int ?? -1)"] = object["value"] as? String
        }
        for (index, line) in result.stdoutLines.enumerated() {
            #expect(valueAt[line] == String(index), "record \(index) is not at \(line)")
        }
    }

    @Test func keysLandOnKafkasPartitions() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "keyed", "--partitions", "8"])
        let json = try await tool.succeed(
            ["produce", "keyed", "--format", "json", "--print-offsets"], input: "{\"key\":\"customer-17\",\"value\":\"x\"}\n{\"key\":\"a\",\"value\":\"y\"}\n")
        #expect(json.stdoutLines == ["0 0", "4 0"])
        let lines = try await tool.succeed(["produce", "keyed", "--key", "a", "--print-offsets"], input: "z\n")
        #expect(lines.stdoutLines == ["4 1"])
    }

    @Test func replayStartsAndStopsWhereAsked() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        let input = (0..<10).map { #"{"value":"\#($0)","timestamp":\#(1_700_000_000_000 + Int64($0) * 1000)}"# }.joined(separator: "\n")
        try await tool.succeed(["produce", "t", "--format", "json"], input: input)
        func values(_ arguments: [String]) async throws -> [String] {
            try await tool.succeed(["replay", "t", "--format", "value"] + arguments).stdoutLines
        }
        #expect(try await values(["--from-offset", "7"]) == ["7", "8", "9"])
        #expect(try await values(["--until-offset", "2"]) == ["0", "1"])
        #expect(try await values(["--from-time", "1700000003000", "--limit", "2"]) == ["3", "4"])
        #expect(try await values(["--from-time", "2023-11-14T22:13:25Z", "--until-time", "2023-11-14T22:13:27Z"]) == ["5", "6", "7"])
        #expect(try await values(["--from-end"]) == [])
        #expect(try await values(["--partition", "0", "--from-beginning", "--limit", "1"]) == ["0"])
    }

    @Test func storeComesFromTheEnvironmentOrBeforeTheSubcommand() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let created = try await tool.run(["--store", tool.store, "create", "t"], addStore: false)
        #expect(created.status == 0)
        let listed = try await tool.run(["topics"], addStore: false, environment: ["STREAM_STORE_DIR": tool.store])
        #expect(listed.status == 0)
        #expect(listed.stdout == "t\n")
    }
}
