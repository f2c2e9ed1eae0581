/// A change to an event's shape that is not additive: a reader of the earlier shape, or old
/// events read by the later one, can break on it.
package struct SchemaChange: Sendable {
    package enum Kind: String, Sendable {
        /// A field is gone.
        case removed
        /// A field is gone and another of the same type took its place at the same moment.
        case renamed
        /// A field holds a JSON type it did not hold before.
        case retyped
        /// A field that was sometimes missing (or null) is now always there; or a new field
        /// declared required by a JSON Schema.
        case madeRequired
        /// Records of the type whose value is not a JSON object.
        case notJSON
        /// Records of the type whose `schema-version` header is not a version number.
        case invalidVersion
    }

    /// Where the change lies.
    package enum Scope: String, Sendable {
        /// Between two consecutive versions: old events need an upcaster to the new shape.
        case betweenVersions
        /// Inside one version: a producer changed the shape without a new version.
        case insideVersion
        /// Between the history and the samples (or JSON Schema) given to `--against`.
        case against
    }

    /// One record (or sample line) that shows the change, with what it shows.
    package struct Example: Sendable {
        package var label: String
        package var location: EventLocation
    }

    package var kind: Kind
    package var scope: Scope
    package var eventType: String
    /// The earlier version (the only one, inside a version); nil for an invalid version.
    package var fromVersion: Int?
    /// The later version (equal to ``fromVersion`` inside a version).
    package var toVersion: Int?
    package var field: String?
    /// The field's new name, for a rename.
    package var newField: String?
    package var fromTypes: JSONTypes?
    package var toTypes: JSONTypes?
    package var examples: [Example]
    /// One sentence: what changed, where.
    package var message: String

    /// What changed, for keeping one example of each change.
    var identity: String {
        "\(kind.rawValue)|\(scope.rawValue)|\(field ?? "")|\(newField ?? "")|\(fromTypes?.rawValue ?? 0)|\(toTypes?.rawValue ?? 0)"
    }

    /// `order-placed 1 → 2`, `order-placed 2`, or `order-placed 2 → samples`.
    package var versionsText: String {
        let from = fromVersion.map { "\($0)" } ?? "?"
        let to = toVersion.map { "\($0)" } ?? "?"
        switch scope {
        case .insideVersion: return "\(eventType) \(from)"
        case .betweenVersions: return "\(eventType) \(from) → \(to)"
        case .against: return "\(eventType) \(from) → \(to) (samples)"
        }
    }

    /// True when it should fail the check: every change, except one between versions when
    /// such changes are allowed (the application upcasts them).
    package func fails(allowingBreakingVersionBumps: Bool) -> Bool {
        !(allowingBreakingVersionBumps && scope == .betweenVersions)
    }
}

extension SchemaChange {
    /// A field present in every record of the version up to `location`, absent from every
    /// record since, in some partition.
    static func removedInside(path: String, lastSeen: EventLocation?, missingFrom: EventLocation?, version: Int?, eventType: String) -> SchemaChange {
        var examples: [Example] = []
        if let lastSeen { examples.append(Example(label: "last with it", location: lastSeen)) }
        if let missingFrom { examples.append(Example(label: "first without it", location: missingFrom)) }
        return SchemaChange(
            kind: .removed, scope: .insideVersion, eventType: eventType, fromVersion: version, toVersion: version, field: path, examples: examples,
            message: "field \"\(path)\" removed inside one version: present in every event up to \(lastSeen?.text ?? "?"), "
                + "absent from every event since \(missingFrom?.text ?? "?")")
    }

    /// A field gone from `missingFrom` on while `newPath` appears from the same record.
    static func renamedInside(path: String, newPath: String, types: JSONTypes, lastSeen: EventLocation?, from location: EventLocation?, version: Int?, eventType: String)
        -> SchemaChange
    {
        var examples: [Example] = []
        if let lastSeen { examples.append(Example(label: "last with \(path)", location: lastSeen)) }
        if let location { examples.append(Example(label: "first with \(newPath)", location: location)) }
        return SchemaChange(
            kind: .renamed, scope: .insideVersion, eventType: eventType, fromVersion: version, toVersion: version, field: path, newField: newPath,
            fromTypes: types, toTypes: types, examples: examples,
            message: "field \"\(path)\" renamed to \"\(newPath)\" inside one version, from \(location?.text ?? "?") on")
    }

    /// A field that held more than one type inside one version.
    static func retypedInside(path: String, types: JSONTypes, examples: [Example], version: Int?, eventType: String) -> SchemaChange {
        let listed = examples.map { "\($0.label) at \($0.location.text)" }.joined(separator: ", ")
        return SchemaChange(
            kind: .retyped, scope: .insideVersion, eventType: eventType, fromVersion: version, toVersion: version, field: path,
            fromTypes: types, toTypes: types, examples: examples,
            message: "field \"\(path)\" holds different types inside one version: \(listed)")
    }
}
