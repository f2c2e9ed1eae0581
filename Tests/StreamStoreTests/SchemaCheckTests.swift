import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreInspect
@testable import StreamStoreLog

/// The schema check infers each event version's shape from a topic's JSON and reports every
/// change that is not additive, with the offsets that show it; additive changes pass.
@Suite(.timeLimit(.minutes(2))) struct SchemaCheckTests {
    /// A topic of one partition filled with `events`: (type, version, JSON), in order.
    private func topic(_ events: [(String, Int?, String)], partitions: Int = 1) async throws -> (StoreFixture, Topic) {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: partitions, flush: .never))
        var batch: [Record] = []
        for (type, version, json) in events {
            var headers = [RecordHeader(.eventType, type)]
            if let version { headers.append(RecordHeader(.schemaVersion, String(version))) }
            batch.append(Record(key: nil, value: json, headers: headers))
        }
        for (index, record) in batch.enumerated() { _ = try await topic.append([record], partition: index % partitions) }
        return (fixture, topic)
    }

    private func events(_ count: Int, _ type: String = "order-placed", version: Int?, _ json: (Int) -> String) -> [(String, Int?, String)] {
        (0..<count).map { (type, version, json($0)) }
    }

    private func onlyChange(_ report: SchemaReport, sourceLocation: SourceLocation = #_sourceLocation) throws -> SchemaChange {
        try #require(report.changes.count == 1, "\(report.changes.map(\.message))", sourceLocation: sourceLocation)
        return report.changes[0]
    }

    @Test func aRemovedFieldIsReportedWithItsOffsets() async throws {
        let (fixture, topic) = try await self.topic(
            events(4, version: 1) { #"{"id":"o-\#($0)","amount":\#($0),"coupon":"c"}"# } + events(3, version: 2) { #"{"id":"o-\#($0)","amount":\#($0)}"# })
        defer { _ = fixture }
        let report = try await topic.schemaReport()
        let change = try onlyChange(report)
        #expect(change.kind == .removed && change.scope == .betweenVersions)
        #expect(change.field == "coupon" && change.fromVersion == 1 && change.toVersion == 2)
        #expect(change.examples.map(\.location.text) == ["0@3", "0@4"], "the last event with it and the first version 2 event")
        #expect(change.message.contains("field \"coupon\" removed: in version 1 (last at 0@3), not in version 2 (from 0@4)"))
        let type = try #require(report.eventType("order-placed"))
        #expect(type.versions.map(\.version) == [1, 2])
        #expect(type.versions.map(\.count) == [4, 3])
        #expect(type.versions[0].earliest?.text == "0@0" && type.versions[0].latest?.text == "0@3")
    }

    @Test func aRenamedFieldIsReportedAsOneRename() async throws {
        let (fixture, topic) = try await self.topic(
            events(3, version: 1) { #"{"id":"o-\#($0)","amount":\#($0)}"# } + events(3, version: 2) { #"{"id":"o-\#($0)","totalCents":\#($0 * 10)}"# })
        defer { _ = fixture }
        let change = try onlyChange(try await topic.schemaReport())
        #expect(change.kind == .renamed && change.field == "amount" && change.newField == "totalCents")
        #expect(change.examples.map(\.location.text) == ["0@2", "0@3"])
    }

    @Test func aRetypedFieldIsReportedBetweenAndInsideVersions() async throws {
        let between = try await self.topic(
            events(3, version: 1) { #"{"id":"o-\#($0)","amount":\#($0)}"# } + events(2, version: 2) { #"{"id":"o-\#($0)","amount":"\#($0)"}"# })
        let change = try onlyChange(try await between.1.schemaReport())
        #expect(change.kind == .retyped && change.scope == .betweenVersions && change.field == "amount")
        #expect(change.fromTypes == .integer && change.toTypes == .string)
        #expect(change.examples.map(\.location.text) == ["0@0", "0@3"])

        // Inside one version: integers, then strings, without a new version.
        let inside = try await self.topic(events(5, version: 1) { #"{"id":"o","amount":\#($0 < 2 ? "\($0)" : "\"\($0)\"")}"# })
        let retyped = try onlyChange(try await inside.1.schemaReport())
        #expect(retyped.kind == .retyped && retyped.scope == .insideVersion)
        #expect(retyped.examples.map { "\($0.label) \($0.location.text)" } == ["string 0@2", "integer 0@0"])
        _ = (between.0, inside.0)
    }

    @Test func integersAndNumbersAreOneType() async throws {
        let (fixture, topic) = try await self.topic(
            events(2, version: 1) { #"{"price":\#($0 + 10)}"# } + events(2, version: 1) { #"{"price":\#($0).5}"# } + events(2, version: 2) { _ in #"{"price":1e3}"# })
        defer { _ = fixture }
        let report = try await topic.schemaReport()
        #expect(report.changes.isEmpty, "\(report.changes.map(\.message))")
        #expect(report.eventType("order-placed")?.versions.first?.field("price")?.types == [.integer, .number])
    }

    @Test func additiveChangesPass() async throws {
        let (fixture, topic) = try await self.topic(
            events(3, version: 1) { #"{"id":"o-\#($0)","customer":{"name":"n"},"note":\#($0 == 0 ? "null" : "\"x\"")}"# }
                + events(3, version: 2) { #"{"id":"o-\#($0)","customer":{"name":"n","tier":"gold"},"note":null,"items":[{"sku":"s"}],"extra":\#($0)}"# }
                + events(2, version: 3) { #"{"id":"o-\#($0)","customer":{"name":"n"},"items":[]}"# }
                + events(2, "order-paid", version: nil) { #"{"id":"o-\#($0)"}"# })
        defer { _ = fixture }
        let report = try await topic.schemaReport()
        // Version 3 drops tier, note and extra, which is not additive; versions 1 → 2 are.
        let messages = report.changes.map { "\($0.versionsText): \($0.message)" }
        #expect(report.changes.allSatisfy { $0.fromVersion == 2 && $0.toVersion == 3 }, "\(messages)")
        #expect(Set(report.changes.compactMap(\.field)) == ["customer.tier", "note", "extra"], "\(messages)")
        let paid = try #require(report.eventType("order-paid"))
        #expect(paid.versions.map(\.version) == [1], "no schema-version header is version 1")
        let v2 = try #require(report.eventType("order-placed")?.versions[1])
        #expect(v2.fields.map(\.path) == ["id", "customer", "customer.name", "customer.tier", "note", "items", "items[]", "items[].sku", "extra"])
        #expect(v2.field("note")?.presenceText == "optional (present 100%, null 100%)")
        #expect(v2.field("customer.tier")?.required == true)
    }

    @Test func aFieldMadeRequiredIsReported() async throws {
        let (fixture, topic) = try await self.topic(
            events(4, version: 1) { #"{"id":"o","note":\#($0 % 2 == 0 ? "\"n\"" : "null")}"# } + events(2, version: 2) { _ in #"{"id":"o","note":"n"}"# })
        defer { _ = fixture }
        let change = try onlyChange(try await topic.schemaReport())
        #expect(change.kind == .madeRequired && change.field == "note")
        #expect(change.examples.map(\.location.text) == ["0@1", "0@4"], "a version 1 event with null, the first of version 2")
    }

    @Test func aFieldRemovedOrRenamedInsideOneVersionIsFoundPerPartition() async throws {
        // Two partitions; the producer dropped "coupon" and renamed "amount" to "total" at the
        // same time, without a new version: the change shows in each partition.
        let before = events(6, version: 1) { #"{"id":"o-\#($0)","amount":\#($0),"coupon":"c"}"# }
        let after = events(6, version: 1) { #"{"id":"o-\#($0)","total":\#($0)}"# }
        let (fixture, topic) = try await self.topic(before + after, partitions: 2)
        defer { _ = fixture }
        let report = try await topic.schemaReport()
        let kinds = report.changes.map { "\($0.kind) \($0.field ?? "") \($0.newField ?? "") \($0.scope)" }.sorted()
        #expect(kinds == ["removed coupon  insideVersion", "renamed amount total insideVersion"])
        let removed = try #require(report.changes.first { $0.kind == .removed })
        #expect(removed.examples.map(\.location.text) == ["0@2", "0@3"], "partition 0: the last with it (its 3rd record) and the first without")
        #expect(removed.message.contains("removed inside one version"))
    }

    @Test func anOptionalFieldIsNoRemoval() async throws {
        let (fixture, topic) = try await self.topic(events(8, version: 1) { #"{"id":"o""# + ($0 % 3 == 0 ? #","coupon":"c""# : "") + "}" })
        defer { _ = fixture }
        let report = try await topic.schemaReport()
        #expect(report.changes.isEmpty, "\(report.changes.map(\.message))")
    }

    @Test func valuesThatAreNotJSONAndBadVersionsAreReported() async throws {
        let (fixture, topic) = try await self.topic([
            ("order-placed", 1, #"{"id":"o"}"#), ("order-placed", 1, #"{"id":"#), ("order-placed", 1, "[1]"), ("order-placed", 1, #"{"id":"o"} x"#),
        ])
        defer { _ = fixture }
        _ = try await topic.append([Record(value: #"{"id":"o"}"#, headers: [RecordHeader(.eventType, "order-placed"), RecordHeader(.schemaVersion, "v2")])], partition: 0)
        _ = try await topic.append([Record(value: "not json", headers: [RecordHeader(.eventType, "blob"), RecordHeader(.contentType, "application/octet-stream")])], partition: 0)
        _ = try await topic.append([Record(value: "plain")], partition: 0)
        let report = try await topic.schemaReport()
        #expect(report.records == 7 && report.untypedRecords == 1)
        let kinds = report.changes.map { "\($0.kind) \($0.examples.first?.location.text ?? "")" }
        #expect(kinds == ["notJSON 0@1", "invalidVersion 0@4"])
        let placed = try #require(report.eventType("order-placed"))
        #expect(placed.versions.map(\.version) == [1, nil])
        #expect(placed.versions[0].notJSON == 3 && placed.versions[0].field("id")?.present == 1, "a broken value leaves no trace in the shape")
        #expect(report.eventType("blob")?.versions.first?.opaque == 1, "content that says it is not JSON is not inspected")
    }

    @Test func aTimeRangeAndOneEventTypeLimitTheScan() async throws {
        let clock = ManualClock(start: 1_764_410_400_000)
        let fixture = try StoreFixture(clock: clock)
        let topic = try fixture.topic(config: TopicConfig(flush: .never))
        for index in 0..<6 {
            let type = index % 2 == 0 ? "a" : "b"
            _ = try await topic.append([Record(value: #"{"n":\#(index)}"#, headers: [RecordHeader(.eventType, type)])], partition: 0)
            clock.advance(milliseconds: 1000)
        }
        let ranged = try await topic.schemaReport(SchemaScanOptions(fromMilliseconds: 1_764_410_402_000, untilMilliseconds: 1_764_410_403_000))
        #expect(ranged.records == 2)
        let onlyA = try await topic.schemaReport(SchemaScanOptions(eventType: "a"))
        #expect(onlyA.eventTypes.map(\.name) == ["a"] && onlyA.eventTypes[0].versions[0].count == 3)
    }

    @Test func samplesAndJSONSchemasAreCheckedAgainstTheHistory() async throws {
        let (fixture, topic) = try await self.topic(events(4, version: 2) { #"{"id":"o-\#($0)","amount":\#($0),"note":\#($0 == 0 ? "\"n\"" : "null")}"# })
        defer { _ = fixture }
        let report = try await topic.schemaReport()
        #expect(report.changes.isEmpty)

        let compatible = try CandidateShape.read(Array("{\"id\":\"x\",\"amount\":1,\"note\":null,\"new\":true}\n\n{\"id\":\"y\",\"amount\":2.5}\n".utf8), eventType: "order-placed")
        #expect(report.changes(against: compatible, eventType: "order-placed", version: nil).isEmpty)

        let breaking = try CandidateShape.read(Array("{\"id\":1,\"total\":3}\n".utf8), eventType: "order-placed")
        let changes = report.changes(against: breaking, eventType: "order-placed", version: nil)
        #expect(changes.map { "\($0.kind) \($0.field ?? "")" }.sorted() == ["removed note", "renamed amount", "retyped id"])
        #expect(changes.allSatisfy { $0.scope == .against && $0.toVersion == 2 })
        #expect(changes.first { $0.kind == .retyped }?.examples.map(\.location.text) == ["0@0", "line 1"])

        let schema = #"""
            {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","required":["id","amount","note","sku"],
             "properties":{"id":{"type":"string"},"amount":{"type":"integer"},"note":{"type":"string"},"sku":{"type":["string","null"]},"code":{"type":"string"}}}
            """#
        let declared = try CandidateShape.read(Array(schema.utf8), eventType: "order-placed")
        #expect(declared.presenceIsDeclared)
        let schemaChanges = report.changes(against: declared, eventType: "order-placed", version: 3)
        #expect(schemaChanges.map { "\($0.kind) \($0.field ?? "")" } == ["madeRequired note"], "sku may be null and code is optional: both additive")
        let newRequired = try CandidateShape.read(Array(#"{"properties":{"id":{"type":"string"},"amount":{},"note":{},"code":{"type":"string"}},"required":["code"]}"#.utf8), eventType: "order-placed")
        #expect(report.changes(against: newRequired, eventType: "order-placed", version: nil).map { "\($0.kind) \($0.field ?? "")" } == ["madeRequired code"])
        #expect(report.changes(against: breaking, eventType: "never-seen", version: nil).isEmpty, "a new event type breaks nothing")

        #expect((#expect(throws: StreamStoreError.self) { try CandidateShape.read(Array("{\"id\":1}\n[2]\n".utf8), eventType: "x") })?.message.contains("Line 2") == true)
        #expect((#expect(throws: StreamStoreError.self) { try CandidateShape.read(Array("\n".utf8), eventType: "x") })?.code == .invalidArgument)
    }

    @Test func deepAndWideValuesStayBounded() async throws {
        let deep = String(repeating: #"{"a":"#, count: 20) + "1" + String(repeating: "}", count: 20)
        let wide = "{" + (0..<(Limits.maxShapeFieldsPerVersion + 50)).map { #""k\#($0)":1"# }.joined(separator: ",") + "}"
        let escaped = #"{"a\u0062":1,"ab":2}"#
        let (fixture, topic) = try await self.topic([("deep", 1, deep), ("wide", 1, wide), ("escaped", 1, escaped)])
        defer { _ = fixture }
        let report = try await topic.schemaReport()
        let deepShape = try #require(report.eventType("deep")?.versions.first)
        #expect(deepShape.fields.count == Limits.maxShapeDepth)
        #expect(deepShape.notJSON == 0)
        let wideShape = try #require(report.eventType("wide")?.versions.first)
        #expect(wideShape.fields.count == Limits.maxShapeFieldsPerVersion && wideShape.untrackedFieldSightings == 50)
        #expect(report.eventType("escaped")?.versions.first?.fields.map(\.path) == ["ab"], "an escaped name is the name it spells")
    }
}
