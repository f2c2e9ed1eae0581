/// What the schema check found in a topic: each event type with the versions seen and their
/// inferred shapes, and every change that is not additive.
package struct SchemaReport: Sendable {
    package var topic: String
    /// Records scanned.
    package var records: Int
    /// Records without an `event-type` header: not events, not inspected.
    package var untypedRecords: Int
    /// Event types in name order.
    package var eventTypes: [EventTypeReport]
    /// Changes that are not additive, by event type and version.
    package var changes: [SchemaChange]

    /// The event type named `name`.
    package func eventType(_ name: String) -> EventTypeReport? {
        eventTypes.first { $0.name == name }
    }
}

/// One event type: its versions, oldest first (records with an invalid version last).
package struct EventTypeReport: Sendable {
    package var name: String
    package var versions: [VersionReport]

    /// The newest valid version.
    package var newestVersion: VersionReport? {
        versions.last { $0.version != nil }
    }
}

/// One version of an event type, with the shape inferred from its JSON values.
package struct VersionReport: Sendable {
    /// The version; nil for records whose `schema-version` is not a version number.
    package var version: Int?
    /// Records of this version.
    package var count: Int
    /// Those that are JSON objects, from which the shape is inferred.
    package var objectCount: Int
    package var notJSON: Int
    package var firstNotJSON: EventLocation?
    /// Records whose `content-type` is not JSON, not inspected.
    package var opaque: Int
    /// The record with the earliest timestamp, and the one with the latest.
    package var earliest: EventLocation?
    package var latest: EventLocation?
    /// Fields in the order first seen (a parent before its members).
    package var fields: [FieldReport]
    /// Sightings of fields past the tracking limit.
    package var untrackedFieldSightings: Int
    /// True when presence was declared (a JSON Schema's `required`), not inferred from values.
    package var presenceIsDeclared = false

    package func field(_ path: String) -> FieldReport? {
        fields.first { $0.path == path }
    }
}

/// One field path of a version's shape.
package struct FieldReport: Sendable {
    package var path: String
    /// The parent's path; nil for a member of the event's object.
    package var parentPath: String?
    package var types: JSONTypes
    /// Values seen (nulls included), and how many were null.
    package var present: Int
    package var nulls: Int
    /// How often the field could have been there: records for a top-level field, the parent's
    /// objects for a member of one.
    package var possible: Int
    /// Present and not null every time it could have been (or declared required and not nullable).
    package var required: Bool
    /// Inside an array's elements.
    package var isUnderArray: Bool
    /// The first value of each type, in the order of ``JSONTypes/all``.
    package var firstByType: [EventLocation?]
    package var first: EventLocation?
    package var last: EventLocation?
    /// The first record that could have had it and did not (or had null).
    package var firstMissing: EventLocation?

    /// `required`, or `optional (present 40%, null 3%)`.
    package var presenceText: String {
        if required { return "required" }
        guard possible > 0, present > 0 || nulls > 0 else { return "optional" }
        var parts = ["present \(Self.percent(present, of: possible))"]
        if nulls > 0 { parts.append("null \(Self.percent(nulls, of: possible))") }
        return "optional (" + parts.joined(separator: ", ") + ")"
    }

    private static func percent(_ part: Int, of whole: Int) -> String {
        let value = Double(part) * 100 / Double(max(whole, 1))
        if value > 0 && value < 1 { return "<1%" }
        if value > 99 && value < 100 { return ">99%" }
        return "\(Int(value.rounded()))%"
    }

    /// The first value of a type of `types`, for examples.
    package func firstLocation(ofAny types: JSONTypes) -> EventLocation? {
        for (type, _) in JSONTypes.all where types.contains(type) || (types.contains(.number) && type == .integer) {
            if let location = firstByType[type.index] { return location }
        }
        return nil
    }
}

extension VersionShape {
    /// The shape as a report: fields never seen in a whole value are left out.
    func report() -> VersionReport {
        var reports: [FieldReport] = []
        for field in fields where field.present > 0 {
            let parent = field.parent < 0 ? nil : fields[Int(field.parent)]
            let possible = parent?.objects ?? objectRecords
            reports.append(
                FieldReport(
                    path: field.path, parentPath: parent?.path, types: field.types, present: field.present, nulls: field.nulls, possible: possible,
                    required: field.present - field.nulls >= possible, isUnderArray: field.isUnderArray, firstByType: field.firstByType,
                    first: field.first, last: field.last, firstMissing: field.firstMissing))
        }
        return VersionReport(
            version: version, count: records, objectCount: objectRecords, notJSON: notJSON, firstNotJSON: firstNotJSON, opaque: opaque,
            earliest: earliest, latest: latest, fields: reports, untrackedFieldSightings: untrackedFieldSightings)
    }
}
