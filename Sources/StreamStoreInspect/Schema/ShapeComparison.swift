/// The rules of additive change, applied to two shapes of one event type (two consecutive
/// versions, or the history and new samples) and to one shape on its own.
///
/// Additive, and so never reported: a new field (unless a JSON Schema declares it required), a
/// field that becomes optional or nullable, a field that holds fewer types than before, and
/// integers where numbers were (and the reverse). Reported: a field removed, renamed (removed
/// while a field of the same types appears under the same parent), retyped (it holds a type it
/// did not hold), or made required (it was missing or null in some events and is in none now).
enum ShapeComparison {
    static func changes(from earlier: VersionReport, to later: VersionReport, eventType: String, scope: SchemaChange.Scope) -> [SchemaChange] {
        let earlierPaths = Dictionary(earlier.fields.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let laterPaths = Dictionary(later.fields.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        // A field whose parent is gone too is part of its parent's change, not one of its own.
        // An array's elements (`items[]`) are not a field: an array always empty has none.
        let removed = earlier.fields.filter {
            laterPaths[$0.path] == nil && !$0.path.hasSuffix("[]") && ($0.parentPath.map { laterPaths[$0] != nil } ?? true)
        }
        let added = later.fields.filter {
            earlierPaths[$0.path] == nil && !$0.path.hasSuffix("[]") && ($0.parentPath.map { earlierPaths[$0] != nil } ?? true)
        }
        let context = Context(eventType: eventType, scope: scope, from: earlier, to: later)
        var changes: [SchemaChange] = []
        var renamedTo = Set<String>()
        for old in removed {
            let new = added.first {
                !renamedTo.contains($0.path) && $0.parentPath == old.parentPath && !old.types.families.isEmpty && $0.types.families == old.types.families
            }
            if let new {
                renamedTo.insert(new.path)
                changes.append(context.renamed(old, to: new))
            } else {
                changes.append(context.removed(old))
            }
        }
        for old in earlier.fields {
            guard let new = laterPaths[old.path] else { continue }
            let gained = new.types.families.subtracting(old.types.families)
            if !gained.isEmpty && !old.types.families.isEmpty {
                changes.append(context.retyped(old, to: new, gained: gained))
            }
            if !old.required && new.required && old.possible > 0 {
                changes.append(context.madeRequired(old, to: new))
            }
        }
        if later.presenceIsDeclared {
            for new in added where new.required && !renamedTo.contains(new.path) {
                changes.append(context.addedRequired(new))
            }
        }
        return changes
    }

    /// Changes one version shows on its own: fields of several types, values that are not JSON
    /// objects, and a `schema-version` that is not a number.
    static func changesInside(_ version: VersionReport, eventType: String) -> [SchemaChange] {
        var changes: [SchemaChange] = []
        if version.version == nil, let first = version.earliest {
            changes.append(
                SchemaChange(
                    kind: .invalidVersion, scope: .insideVersion, eventType: eventType, fromVersion: nil, toVersion: nil,
                    examples: [SchemaChange.Example(label: "first", location: first)],
                    message: "\(version.count) event\(version.count == 1 ? " has" : "s have") a schema-version that is not a version number from 1, first at \(first.text)"))
        }
        if version.notJSON > 0, let first = version.firstNotJSON {
            changes.append(
                SchemaChange(
                    kind: .notJSON, scope: .insideVersion, eventType: eventType, fromVersion: version.version, toVersion: version.version,
                    examples: [SchemaChange.Example(label: "first", location: first)],
                    message: "\(version.notJSON) event\(version.notJSON == 1 ? " is" : "s are") not a JSON object, first at \(first.text)"))
        }
        for field in version.fields where field.types.families.rawValue.nonzeroBitCount > 1 {
            var examples: [SchemaChange.Example] = []
            for (type, name) in JSONTypes.all where field.types.contains(type) && type != .null {
                if let location = field.firstByType[type.index] { examples.append(SchemaChange.Example(label: name, location: location)) }
            }
            changes.append(.retypedInside(path: field.path, types: field.types, examples: examples, version: version.version, eventType: eventType))
        }
        return changes
    }

    /// What every change between the two shapes shares, and the sentences that describe them.
    private struct Context {
        var eventType: String
        var scope: SchemaChange.Scope
        var from: VersionReport
        var to: VersionReport

        private var fromName: String { "version \(from.version.map(String.init) ?? "?")" }
        private var toName: String { scope == .against ? "the samples" : "version \(to.version.map(String.init) ?? "?")" }

        private func change(_ kind: SchemaChange.Kind, field: String, newField: String? = nil, fromTypes: JSONTypes? = nil, toTypes: JSONTypes? = nil,
                            examples: [SchemaChange.Example], message: String) -> SchemaChange {
            SchemaChange(
                kind: kind, scope: scope, eventType: eventType, fromVersion: from.version, toVersion: to.version, field: field, newField: newField,
                fromTypes: fromTypes, toTypes: toTypes, examples: examples, message: message)
        }

        private func example(_ label: String, _ location: EventLocation?) -> [SchemaChange.Example] {
            location.map { [SchemaChange.Example(label: label, location: $0)] } ?? []
        }

        /// ` (last at 0@41)`, or nothing without a location.
        private func at(_ location: EventLocation?, _ words: String) -> String {
            location.map { " (\(words) \($0.text))" } ?? ""
        }

        func removed(_ old: FieldReport) -> SchemaChange {
            change(
                .removed, field: old.path, fromTypes: old.types,
                examples: example("last in \(fromName)", old.last) + example("first of \(toName)", to.earliest),
                message: "field \"\(old.path)\" removed: in \(fromName)\(at(old.last, "last at")), not in \(toName)\(at(to.earliest, "from"))")
        }

        func renamed(_ old: FieldReport, to new: FieldReport) -> SchemaChange {
            change(
                .renamed, field: old.path, newField: new.path, fromTypes: old.types, toTypes: new.types,
                examples: example("\(old.path) in \(fromName)", old.last) + example("\(new.path) in \(toName)", new.first),
                message: "field \"\(old.path)\" renamed to \"\(new.path)\" (\(new.types.families.text)): \"\(old.path)\" in \(fromName)\(at(old.last, "last at")), "
                    + "\"\(new.path)\" in \(toName)\(at(new.first, "first at"))")
        }

        func retyped(_ old: FieldReport, to new: FieldReport, gained: JSONTypes) -> SchemaChange {
            let oldAt = old.firstLocation(ofAny: old.types.families)
            let newAt = new.firstLocation(ofAny: gained)
            return change(
                .retyped, field: old.path, fromTypes: old.types, toTypes: new.types,
                examples: example("\(old.types.families.text) in \(fromName)", oldAt) + example("\(gained.text) in \(toName)", newAt),
                message: "field \"\(old.path)\" retyped from \(old.types.families.text) to \(new.types.families.text): \(old.types.families.text) in \(fromName)\(at(oldAt, "first at")), "
                    + "\(gained.text) in \(toName)\(at(newAt, "first at"))")
        }

        func madeRequired(_ old: FieldReport, to new: FieldReport) -> SchemaChange {
            change(
                .madeRequired, field: old.path, fromTypes: old.types, toTypes: new.types,
                examples: example("missing in \(fromName)", old.firstMissing) + example("first of \(toName)", new.first),
                message: "field \"\(old.path)\" made required: missing or null in some events of \(fromName)\(at(old.firstMissing, "first at")), "
                    + (to.presenceIsDeclared ? "declared required in \(toName)" : "in every event of \(toName)\(at(new.first, "from"))"))
        }

        func addedRequired(_ new: FieldReport) -> SchemaChange {
            change(
                .madeRequired, field: new.path, toTypes: new.types, examples: example("first of \(fromName)", from.earliest),
                message: "field \"\(new.path)\" is new and declared required in \(toName): the events of \(fromName) lack it\(at(from.earliest, "from"))")
        }
    }
}
