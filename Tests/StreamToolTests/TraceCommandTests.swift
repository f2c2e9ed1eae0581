import Foundation
import Testing
import StreamStore

/// `stream-tool trace CORRELATION_ID [--topic T] [--json]`: a flow across topics, in time order,
/// with a column per consumer group.
@Suite(.timeLimit(.minutes(5))) struct TraceCommandTests {
    static func line(_ value: String, id: String, message: String, causation: String? = nil, type: String, timestamp: Int64) -> String {
        var headers = #""correlation-id":"\#(id)","message-id":"\#(message)","event-type":"\#(type)""#
        if let causation { headers += #","causation-id":"\#(causation)""# }
        return #"{"key":"customer-17","value":"\#(value)","timestamp":\#(timestamp),"headers":{\#(headers)}}"#
    }

    /// orders/0: placed (t+10), shipped (t+40); payments/0: another flow (t+5), settled (t+20).
    /// billing has processed orders' first record; shipping all of payments.
    static func makeFlow(_ tool: ToolRunner) async throws {
        let t: Int64 = 1_764_410_400_000
        try await tool.succeed(["create", "orders", "--retention", "unlimited"])
        try await tool.succeed(["create", "payments", "--retention", "unlimited"])
        let orders = [
            line("placed", id: "order-1", message: "m-1", type: "order-placed", timestamp: t + 10),
            line("shipped", id: "order-1", message: "m-3", causation: "m-2", type: "order-shipped", timestamp: t + 40),
        ]
        try await tool.succeed(["produce", "orders", "--format", "json"], input: orders.joined(separator: "\n") + "\n")
        let payments = [
            line("other", id: "order-2", message: "m-9", type: "payment-settled", timestamp: t + 5),
            line("settled", id: "order-1", message: "m-2", causation: "m-1", type: "payment-settled", timestamp: t + 20),
        ]
        try await tool.succeed(["produce", "payments", "--format", "json"], input: payments.joined(separator: "\n") + "\n")
        try await tool.succeed(["replay", "orders", "--group", "billing", "--commit", "--limit", "1"])
        try await tool.succeed(["replay", "payments", "--group", "shipping", "--commit"])
    }

    static func cells(_ line: String) -> [String] {
        line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    }

    @Test func theTableListsTheFlowInTimeOrderWithAColumnPerGroup() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeFlow(tool)
        let lines = try await tool.succeed(["trace", "order-1"]).stdoutLines
        #expect(Self.cells(lines[0]) == ["TIME", "TOPIC", "PARTITION", "OFFSET", "EVENT", "TYPE", "MESSAGE", "ID", "CAUSATION", "ID", "billing", "shipping"])
        #expect(Self.cells(lines[1]) == ["2025-11-29T10:00:00.010Z", "orders", "0", "0", "order-placed", "m-1", "-", "✓", "-"])
        #expect(Self.cells(lines[2]) == ["2025-11-29T10:00:00.020Z", "payments", "0", "1", "payment-settled", "m-2", "m-1", "-", "✓"])
        #expect(Self.cells(lines[3]) == ["2025-11-29T10:00:00.040Z", "orders", "0", "1", "order-shipped", "m-3", "m-2", "pending", "-"])
        #expect(lines[4] == "3 records of correlation id order-1 in 2 topics (orders, payments).")
        #expect(lines[5].hasPrefix("Scanned 2 segments, skipped 0 by their correlation filters; read "))
        #expect(lines.count == 6)
        // Columns line up: every row's OFFSET ends where its title does.
        let offsetEnd = lines[0].distance(from: lines[0].startIndex, to: try #require(lines[0].range(of: "OFFSET")).upperBound)
        for row in lines[1...3] {
            let characters = Array(row)
            #expect(characters[offsetEnd - 1] != " " && characters[offsetEnd] == " ", "\(row)")
        }
    }

    @Test func anUnknownIdSaysSoAndSucceeds() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeFlow(tool)
        let result = try await tool.succeed(["trace", "order-404"])
        #expect(result.stdoutLines.first == "No record has correlation id order-404.")
        #expect(result.stdoutLines.count == 2)
        let json = try jsonObject(try await tool.succeed(["trace", "order-404", "--json"]).stdout)
        #expect((json["records"] as? [Any])?.isEmpty == true && (json["groups"] as? [Any])?.isEmpty == true)
    }

    @Test func jsonHasEveryRecordWithItsHeadersAndGroups() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeFlow(tool)
        let result = try await tool.succeed(["trace", "order-1", "--json"])
        #expect(result.stdoutLines.count == 1)
        let json = try jsonObject(result.stdout)
        #expect(json["correlationId"] as? String == "order-1")
        #expect(json["groups"] as? [String] == ["billing", "shipping"])
        let records = try #require(json["records"] as? [[String: Any]])
        #expect(records.map { $0["messageId"] as? String } == ["m-1", "m-2", "m-3"])
        #expect(records.map { $0["topic"] as? String } == ["orders", "payments", "orders"])
        #expect(records.map { $0["timestamp"] as? Int } == [1_764_410_400_010, 1_764_410_400_020, 1_764_410_400_040])
        let settled = records[1]
        #expect(settled["partition"] as? Int == 0 && settled["offset"] as? Int == 1 && settled["key"] as? String == "customer-17")
        #expect(settled["eventType"] as? String == "payment-settled" && settled["causationId"] as? String == "m-1")
        #expect(settled["valueBytes"] as? Int == "settled".utf8.count)
        #expect((settled["headers"] as? [String: String])?["correlation-id"] == "order-1")
        #expect(records[0]["causationId"] is NSNull)
        let groups = try #require(records[2]["groups"] as? [[String: Any]])
        #expect(groups.count == 1 && groups[0]["group"] as? String == "billing")
        #expect(groups[0]["committedOffset"] as? Int == 1 && groups[0]["processed"] as? Bool == false)
        let statistics = try #require(json["statistics"] as? [String: Any])
        #expect(statistics["segmentsScanned"] as? Int == 2 && statistics["segmentsSkippedByFilter"] as? Int == 0)
        #expect((statistics["bytesRead"] as? Int ?? 0) > 0 && statistics["elapsedMicroseconds"] is Int)
        #expect((json["problems"] as? [Any])?.isEmpty == true)
    }

    @Test func topicNarrowsTheSearchAndAnUnknownTopicIsOneErrorLine() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeFlow(tool)
        let lines = try await tool.succeed(["trace", "order-1", "--topic", "payments"]).stdoutLines
        #expect(lines.count == 4 && Self.cells(lines[1])[1] == "payments")
        #expect(try await tool.fail(["trace", "order-1", "--topic", "nope"]).contains("There is no topic nope"))
        let empty = try ToolRunner()
        defer { empty.removeFolder() }
        #expect(try await empty.fail(["trace", "order-1"]).contains("There is no store"))
    }

    /// `t` with 4 KiB segments: 1,200 records, a flow per 10 records, in 24 batches of 50 (a
    /// produce run each, since one run makes batches of up to 1,000 records).
    static func makeSegments(_ tool: ToolRunner) async throws {
        try await tool.succeed(["create", "t", "--segment-bytes", "4096", "--flush", "never"])
        for run in 0..<24 {
            let lines = (run * 50..<(run + 1) * 50).map { #"{"value":"event \#($0)","headers":{"correlation-id":"flow-\#($0 / 10)"}}"# }
            try await tool.succeed(["produce", "t", "--format", "json"], input: lines.joined(separator: "\n") + "\n")
        }
    }

    static func statistics(_ tool: ToolRunner, _ id: String) async throws -> (records: Int, statistics: [String: Int]) {
        let json = try jsonObject(try await tool.succeed(["trace", id, "--json"]).stdout)
        return ((json["records"] as? [Any])?.count ?? -1, try #require(json["statistics"] as? [String: Int]))
    }

    @Test func sealedSegmentsAreSkippedByTheirFiltersOnceWritten() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeSegments(tool)
        let sealed = try tool.logFiles("t").count - 1
        #expect(sealed > 10)
        // `trace` reads the store read-only, beside any writer: it uses the filters there are and
        // writes none. Segments without one (sealed just before a produce run closed the store)
        // are scanned.
        let cfilters = { try FileManager.default.contentsOfDirectory(atPath: "\(tool.store)/t/0").filter { $0.hasSuffix(".cfilter") }.count }
        let before = try cfilters()
        let first = try await Self.statistics(tool, "flow-60")
        #expect(first.records == 10)
        let missing = first.statistics["segmentsWithoutUsableFilter"] ?? -1
        #expect(missing == sealed - before)
        #expect(first.statistics["filtersWritten"] == 0)
        #expect(try cfilters() == before)
        // The next writer builds the missing filters in the background.
        let writer = try Store.open(at: tool.store)
        let deadline = ContinuousClock.now + .seconds(60)
        // No event announces a finished background build: look at the folder until it is done.
        while try cfilters() < sealed && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try writer.close()
        #expect(try cfilters() == sealed)

        let second = try await Self.statistics(tool, "flow-60")
        #expect(second.records == 10 && second.statistics["segmentsWithoutUsableFilter"] == 0)
        #expect((second.statistics["segmentsSkippedByFilter"] ?? 0) >= sealed - 3, "\(second.statistics)")
        let text = try await tool.succeed(["trace", "flow-60"]).stdoutLines
        #expect(text.last?.contains("skipped \(second.statistics["segmentsSkippedByFilter"]!) by their correlation filters") == true)
        let verified = try jsonObject(try await tool.succeed(["verify", "--json"]).stdout)
        let segments = try #require(((verified["topics"] as? [[String: Any]])?.first?["partitions"] as? [[String: Any]])?.first?["segments"] as? [[String: Any]])
        #expect(segments.dropLast().allSatisfy { $0["correlationFilter"] as? String == "ok" })
        #expect(segments.last?["correlationFilter"] as? String == "notApplicable")
    }

    @Test func aDamagedSegmentIsAWarningAndExitThree() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeSegments(tool)
        let logs = try tool.logFiles("t")
        // A filter is bound to its segment's offsets and size, not its bytes: without one the
        // damaged segment is scanned, and its batches' checksums catch the damage.
        try? FileManager.default.removeItem(atPath: logs[0].replacingOccurrences(of: ".log", with: ".cfilter"))
        try tool.flipByte(at: 100, in: logs[0])
        let result = try await tool.run(["trace", "flow-119"])
        #expect(result.status == 3 && result.errorLines.isEmpty)
        #expect(Self.cells(result.stdoutLines[0]).first == "TIME" && result.stdoutLines.count == 14, "\(result.stdout)")
        #expect(result.stdout.contains("warning: part of the log could not be read") && result.stdout.contains("CRC32C"))
    }
}
