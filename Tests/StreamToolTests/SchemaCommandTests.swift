import Foundation
import Testing

/// `stream-tool schema check TOPIC` and `schema show TOPIC EVENT-TYPE`: versions and shapes of a
/// topic's events; exit 3 on a change that is not additive.
@Suite(.timeLimit(.minutes(5))) struct SchemaCommandTests {
    /// A `produce --format json` line of an event: `value` is the event's JSON.
    static func line(_ value: String, type: String, version: Int?, timestamp: Int64) -> String {
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let versionHeader = version.map { #","schema-version":"\#($0)""# } ?? ""
        return #"{"value":"\#(escaped)","timestamp":\#(timestamp),"headers":{"event-type":"\#(type)"\#(versionHeader)}}"#
    }

    static let start: Int64 = 1_764_410_400_000

    /// orders: order-placed 1 (3 events, with `amount`), 2 (2 events, `amount` renamed to
    /// `totalCents`), order-paid 1 (1 event), and a record without an event type.
    static func makeOrders(_ tool: ToolRunner, secondVersion: String = #"{"id":"o","totalCents":5,"note":"n"}"#) async throws {
        try await tool.succeed(["create", "orders", "--retention", "unlimited"])
        var lines: [String] = []
        for index in 0..<3 { lines.append(line(#"{"id":"o-\#(index)","amount":\#(index)}"#, type: "order-placed", version: 1, timestamp: start + Int64(index))) }
        lines.append(line(#"{"id":"o-1"}"#, type: "order-paid", version: nil, timestamp: start + 3))
        for index in 0..<2 { lines.append(line(secondVersion, type: "order-placed", version: 2, timestamp: start + 4 + Int64(index))) }
        lines.append(#"{"value":"not an event","timestamp":\#(start + 6)}"#)
        try await tool.succeed(["produce", "orders", "--format", "json"], input: lines.joined(separator: "\n") + "\n")
    }

    @Test func checkListsVersionsAndExitsThreeOnARename() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeOrders(tool)
        let result = try await tool.run(["schema", "check", "orders"])
        #expect(result.status == 3, "\(result.stdout) \(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines[0].split(separator: " ", omittingEmptySubsequences: true) == ["EVENT", "TYPE", "VERSION", "EVENTS", "FIRST", "LAST"])
        #expect(lines[1].split(separator: " ", omittingEmptySubsequences: true).map(String.init) == ["order-paid", "1", "1", "0@3", "2025-11-29T10:00:00.003Z", "0@3", "2025-11-29T10:00:00.003Z"])
        #expect(lines[2].hasPrefix("order-placed") && lines[2].contains("0@0 2025-11-29T10:00:00.000Z") && lines[2].contains("0@2 2025-11-29T10:00:00.002Z"))
        #expect(lines[3].contains(" 2 ") && lines[3].contains("0@4 "))
        #expect(lines[4] == "Changes that are not additive:")
        #expect(lines[5] == #"  order-placed 1 → 2: field "amount" renamed to "totalCents" (number): "amount" in version 1 (last at 0@2), "totalCents" in version 2 (first at 0@4)"#)
        #expect(lines[6].hasPrefix("Checked 7 records of topic orders (1 without an event-type) in "))
        #expect(lines[6].hasSuffix(": 2 event types, 3 versions, 1 change not additive."))

        // The change between versions is the upcaster's to handle: allowed, still listed.
        let allowed = try await tool.run(["schema", "check", "orders", "--allow-breaking-bumps"])
        #expect(allowed.status == 0)
        #expect(allowed.stdout.contains("[allowed: upcast]"))
    }

    @Test func anAdditiveChangePassesAndJSONSaysSo() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeOrders(tool, secondVersion: #"{"id":"o","amount":5,"note":"n"}"#)
        let result = try await tool.run(["schema", "check", "orders", "--json"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let report = try jsonObject(result.stdout)
        #expect(report["records"] as? Int == 7 && report["untypedRecords"] as? Int == 1)
        #expect((report["changes"] as? [Any])?.isEmpty == true && report["failingChanges"] as? Int == 0)
        let types = try #require(report["eventTypes"] as? [[String: Any]])
        #expect(types.map { $0["name"] as? String } == ["order-paid", "order-placed"])
        let placed = try #require(types[1]["versions"] as? [[String: Any]])
        #expect(placed.map { $0["version"] as? Int } == [1, 2])
        let first = try #require(placed[0]["first"] as? [String: Any])
        #expect(first["partition"] as? Int == 0 && first["offset"] as? Int == 0 && first["timestamp"] as? Int == Int(Self.start))
        let fields = try #require(placed[1]["fields"] as? [[String: Any]])
        #expect(fields.map { $0["path"] as? String } == ["id", "amount", "note"])
        #expect(fields[1]["types"] as? [String] == ["integer"] && fields[1]["presence"] as? String == "required")
    }

    @Test func jsonListsEachChangeWithItsExamples() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeOrders(tool, secondVersion: #"{"id":7}"#)
        let result = try await tool.run(["schema", "check", "orders", "--json"])
        #expect(result.status == 3)
        let report = try jsonObject(result.stdout)
        let changes = try #require(report["changes"] as? [[String: Any]])
        #expect(changes.map { "\($0["kind"] ?? "") \($0["field"] ?? "")" } == ["removed amount", "retyped id"])
        let retyped = changes[1]
        #expect(retyped["scope"] as? String == "betweenVersions" && retyped["fromVersion"] as? Int == 1 && retyped["toVersion"] as? Int == 2)
        #expect(retyped["fromTypes"] as? [String] == ["string"] && retyped["toTypes"] as? [String] == ["integer"])
        let examples = try #require(retyped["examples"] as? [[String: Any]])
        #expect(examples.map { $0["offset"] as? Int } == [0, 4])
        #expect(report["failingChanges"] as? Int == 2)
    }

    @Test func showPrintsTheShapeOfEachVersion() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeOrders(tool, secondVersion: #"{"id":"o","totalCents":5,"items":[{"sku":"a"}],"note":null}"#)
        let lines = try await tool.succeed(["schema", "show", "orders", "order-placed"]).stdoutLines
        #expect(lines[0] == "order-placed version 1: 3 events, first 0@0 2025-11-29T10:00:00.000Z, last 0@2 2025-11-29T10:00:00.002Z")
        #expect(lines[1].split(separator: " ", omittingEmptySubsequences: true) == ["FIELD", "TYPES", "PRESENCE"])
        #expect(lines[2].split(separator: " ", omittingEmptySubsequences: true) == ["id", "string", "required"])
        #expect(lines[4].hasPrefix("order-placed version 2: 2 events"))
        let rows = lines[6...].map { $0.split(separator: " ", omittingEmptySubsequences: true).first.map(String.init) }
        #expect(rows == ["id", "totalCents", "items", "items[]", "items[].sku", "note"])
        #expect(lines.last?.hasSuffix(" null     optional (present 100%, null 100%)") == true, "\(lines)")

        let json = try jsonObject(try await tool.succeed(["schema", "show", "orders", "order-paid", "--json"]).stdout)
        #expect(json["eventType"] as? String == "order-paid" && (json["versions"] as? [Any])?.count == 1)
        let missing = try await tool.fail(["schema", "show", "orders", "order-shipped"])
        #expect(missing.contains("no event of type order-shipped"))
    }

    @Test func againstChecksSamplesAndSchemasBeforeDeploying() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.makeOrders(tool, secondVersion: #"{"id":"o","amount":5}"#)
        let samples = tool.folder.appendingPathComponent("samples.jsonl")
        try Data("{\"id\":\"o\",\"amount\":1,\"coupon\":\"c\"}\n".utf8).write(to: samples)
        let good = try await tool.run(["schema", "check", "orders", "--against", samples.path, "--event-type", "order-placed"])
        #expect(good.status == 0, "\(good.stdout)")

        let schema = tool.folder.appendingPathComponent("schema.json")
        try Data(#"{"type":"object","properties":{"id":{"type":"string"},"total":{"type":"integer"}},"required":["id","total"]}"#.utf8).write(to: schema)
        let bad = try await tool.run(["schema", "check", "orders", "--against", schema.path, "--event-type", "order-placed", "--schema-version", "3"])
        #expect(bad.status == 3)
        #expect(bad.stdout.contains(#"order-placed 2 → 3 (samples): field "amount" renamed to "total" (number)"#), "\(bad.stdout)")

        let usage = try await tool.run(["schema", "check", "orders", "--against", schema.path])
        #expect(usage.status != 0 && usage.stderr.contains("--against needs --event-type"))
        let unreadable = try await tool.fail(["schema", "check", "orders", "--against", "/nonexistent/x.json", "--event-type", "t"])
        #expect(unreadable.contains("Cannot read /nonexistent/x.json"))
    }
}
