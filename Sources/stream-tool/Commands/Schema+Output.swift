import StreamStore
import StreamStoreInspect

/// The text and JSON of `schema check` and `schema show`.
enum SchemaText {
    // MARK: Text

    static func check(_ report: SchemaReport, elapsedMilliseconds: Int64, allowingBreakingBumps: Bool) -> String {
        var text = ""
        if report.eventTypes.isEmpty {
            text += "No events: no record of topic \(report.topic) has an event-type header.\n"
        } else {
            var table = TextTable([("EVENT TYPE", .left), ("VERSION", .right), ("EVENTS", .right), ("FIRST", .left), ("LAST", .left)])
            for type in report.eventTypes {
                for version in type.versions {
                    table.add([type.name, version.version.map(String.init) ?? "invalid", Format.grouped(Int64(version.count)), position(version.earliest), position(version.latest)])
                }
            }
            text += table.render()
        }
        let failing = report.changes.filter { $0.fails(allowingBreakingVersionBumps: allowingBreakingBumps) }
        if !report.changes.isEmpty {
            text += "\nChanges that are not additive:\n"
            for change in report.changes {
                let note = change.fails(allowingBreakingVersionBumps: allowingBreakingBumps) ? "" : " [allowed: upcast]"
                text += "  \(change.versionsText): \(change.message)\(note)\n"
            }
        }
        let versions = report.eventTypes.reduce(0) { $0 + $1.versions.count }
        text += "\nChecked \(Format.count(Int64(report.records), "record")) of topic \(report.topic)"
        if report.untypedRecords > 0 { text += " (\(Format.grouped(Int64(report.untypedRecords))) without an event-type)" }
        text += " in \(Format.seconds(Double(elapsedMilliseconds) / 1000)): \(Format.count(Int64(report.eventTypes.count), "event type")), "
        text += "\(Format.count(Int64(versions), "version")), "
        text += failing.isEmpty ? "every change additive.\n" : "\(Format.count(Int64(failing.count), "change")) not additive.\n"
        return text
    }

    static func show(_ type: EventTypeReport) -> String {
        var text = ""
        for (index, version) in type.versions.enumerated() {
            if index > 0 { text += "\n" }
            let name = version.version.map { "version \($0)" } ?? "an invalid version"
            text += "\(type.name) \(name): \(Format.count(Int64(version.count), "event")), first \(position(version.earliest)), last \(position(version.latest))\n"
            if version.notJSON > 0 { text += "  \(Format.count(Int64(version.notJSON), "event")) not a JSON object (first \(position(version.firstNotJSON)))\n" }
            if version.opaque > 0 { text += "  \(Format.count(Int64(version.opaque), "event")) with a content-type that is not JSON, not inspected\n" }
            if version.untrackedFieldSightings > 0 {
                text += "  more than \(Limits.maxShapeFieldsPerVersion) distinct fields: the rest are not shown\n"
            }
            guard !version.fields.isEmpty else { continue }
            var table = TextTable([("FIELD", .left), ("TYPES", .left), ("PRESENCE", .left)])
            for field in version.fields { table.add([field.path, field.types.text, field.presenceText]) }
            text += table.render(indent: "  ")
        }
        return text
    }

    /// `0@41 2026-11-29T10:00:00.000Z`, `line 3`, or `-`.
    static func position(_ location: EventLocation?) -> String {
        guard let location else { return "-" }
        guard let time = location.timestampMilliseconds else { return location.text }
        return "\(location.text) \(ISO8601.format(milliseconds: time))"
    }

    // MARK: JSON

    static func json(_ report: SchemaReport, elapsedMilliseconds: Int64, allowingBreakingBumps: Bool) -> JSONValue {
        let failing = report.changes.filter { $0.fails(allowingBreakingVersionBumps: allowingBreakingBumps) }.count
        return .object([
            ("topic", .string(report.topic)),
            ("records", .integer(Int64(report.records))),
            ("untypedRecords", .integer(Int64(report.untypedRecords))),
            ("elapsedMilliseconds", .integer(elapsedMilliseconds)),
            ("eventTypes", .array(report.eventTypes.map { .object([("name", .string($0.name)), ("versions", .array($0.versions.map(json)))]) })),
            ("changes", .array(report.changes.map { json($0, allowingBreakingBumps: allowingBreakingBumps) })),
            ("failingChanges", .integer(Int64(failing))),
        ])
    }

    static func json(_ version: VersionReport) -> JSONValue {
        .object([
            ("version", JSONValue.optional(version.version.map(Int64.init))),
            ("events", .integer(Int64(version.count))),
            ("notJSON", .integer(Int64(version.notJSON))),
            ("opaque", .integer(Int64(version.opaque))),
            ("first", json(version.earliest)),
            ("last", json(version.latest)),
            (
                "fields",
                .array(
                    version.fields.map { field in
                        .object([
                            ("path", .string(field.path)),
                            ("types", .array(field.types.names.map { .string($0) })),
                            ("presence", .string(field.required ? "required" : "optional")),
                            ("present", .integer(Int64(field.present))),
                            ("nulls", .integer(Int64(field.nulls))),
                            ("possible", .integer(Int64(field.possible))),
                        ])
                    })
            ),
        ])
    }

    static func json(_ change: SchemaChange, allowingBreakingBumps: Bool) -> JSONValue {
        let types: (JSONTypes?) -> JSONValue = { types in types.map { .array($0.names.map { .string($0) }) } ?? .null }
        return .object([
            ("eventType", .string(change.eventType)),
            ("kind", .string(change.kind.rawValue)),
            ("scope", .string(change.scope.rawValue)),
            ("fromVersion", JSONValue.optional(change.fromVersion.map(Int64.init))),
            ("toVersion", JSONValue.optional(change.toVersion.map(Int64.init))),
            ("field", change.field.map { .string($0) } ?? .null),
            ("newField", change.newField.map { .string($0) } ?? .null),
            ("fromTypes", types(change.fromTypes)),
            ("toTypes", types(change.toTypes)),
            ("fails", .bool(change.fails(allowingBreakingVersionBumps: allowingBreakingBumps))),
            ("message", .string(change.message)),
            ("examples", .array(change.examples.map { example in .object([("label", .string(example.label))] + members(example.location)) })),
        ])
    }

    private static func json(_ location: EventLocation?) -> JSONValue {
        guard let location else { return .null }
        return .object(members(location))
    }

    private static func members(_ location: EventLocation) -> [(String, JSONValue)] {
        switch location {
        case .record(let partition, let offset, let timestamp):
            return [("partition", .integer(Int64(partition))), ("offset", .integer(offset)), ("timestamp", .integer(timestamp))]
        case .sample(let line):
            return [("line", .integer(Int64(line)))]
        }
    }
}
