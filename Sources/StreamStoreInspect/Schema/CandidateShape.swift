import StreamStore

/// The shape a producer is about to write, for `schema check --against`: inferred from sample
/// events (JSON lines, one event's value per line) or read from a JSON Schema, and compared with
/// the history of the topic before the producer is deployed.
package enum CandidateShape {
    /// The shape of a file's contents: a JSON Schema when the whole file is one JSON object with
    /// `$schema` or `properties`, otherwise sample events, one JSON object per line (blank lines
    /// are skipped). A sample that is not a JSON object is `.invalidArgument` naming its line.
    package static func read(_ contents: [UInt8], eventType: String) throws(StreamStoreError) -> VersionReport {
        if let document = try? JSONValue(parsing: contents), case .object(let members) = document, members["$schema"] != nil || members["properties"] != nil {
            return try fromJSONSchema(document)
        }
        return try fromSamples(contents, eventType: eventType)
    }

    /// The shape inferred from sample events, one JSON object per line.
    package static func fromSamples(_ contents: [UInt8], eventType: String) throws(StreamStoreError) -> VersionReport {
        let recorder = ShapeRecorder(onlyEventType: nil)
        let shape = Array(eventType.utf8).withUnsafeBytes { recorder.shape(eventType: $0, version: nil) }
        recorder.startPartition()
        var lineNumber = 0
        var lineStart = 0
        var samples = 0
        while lineStart <= contents.count {
            lineNumber += 1
            let lineEnd = contents[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? contents.count
            let line = contents[lineStart..<lineEnd]
            lineStart = lineEnd + 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            let notJSONBefore = shape.notJSON
            line.withUnsafeBytes { recorder.take($0, isOpaque: false, shape: shape, location: .sample(line: lineNumber)) }
            guard shape.notJSON == notJSONBefore else {
                throw StreamStoreError(.invalidArgument, "Line \(lineNumber) of the samples is not a JSON object; write one event's JSON value per line.")
            }
            samples += 1
        }
        recorder.endPartition()
        guard samples > 0 else {
            throw StreamStoreError(.invalidArgument, "The samples hold no event: write one event's JSON value per line, or give a JSON Schema.")
        }
        return shape.report()
    }

    /// The shape a JSON Schema declares: `properties` (nested in objects, and in array `items`),
    /// `type` (a name or a list of names), and `required`. A property without `type` may hold
    /// any type. Other keywords (`$ref`, `allOf`, formats) are not followed.
    package static func fromJSONSchema(_ schema: JSONValue) throws(StreamStoreError) -> VersionReport {
        guard schema["properties"]?.objectValue != nil else {
            throw StreamStoreError(.invalidArgument, "The JSON Schema has no \"properties\" object to compare with the events.")
        }
        var fields: [FieldReport] = []
        try collect(schema, path: nil, isUnderArray: false, into: &fields)
        return VersionReport(
            version: nil, count: 0, objectCount: 0, notJSON: 0, firstNotJSON: nil, opaque: 0, earliest: nil, latest: nil, fields: fields,
            untrackedFieldSightings: 0, presenceIsDeclared: true)
    }

    private static func collect(_ schema: JSONValue, path: String?, isUnderArray: Bool, into fields: inout [FieldReport]) throws(StreamStoreError) {
        if let properties = schema["properties"]?.objectValue {
            let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
            for name in properties.keys.sorted() {
                guard let property = properties[name] else { continue }
                let childPath = path.map { "\($0).\(name)" } ?? name
                let types = try self.types(of: property, path: childPath)
                fields.append(declared(childPath, parent: path, types: types, required: required.contains(name) && !types.contains(.null), isUnderArray: isUnderArray))
                try collect(property, path: childPath, isUnderArray: isUnderArray, into: &fields)
            }
        }
        if let path, let items = schema["items"], items.objectValue != nil {
            let elementPath = path + "[]"
            fields.append(declared(elementPath, parent: path, types: try types(of: items, path: elementPath), required: false, isUnderArray: true))
            try collect(items, path: elementPath, isUnderArray: true, into: &fields)
        }
    }

    private static func types(of schema: JSONValue, path: String) throws(StreamStoreError) -> JSONTypes {
        let names: [JSONValue]
        switch schema["type"] {
        case .none: return []
        case .some(.string(let name)): names = [.string(name)]
        case .some(.array(let list)): names = list
        default: throw StreamStoreError(.invalidArgument, "The JSON Schema's \"type\" of \"\(path)\" is neither a type name nor a list of them.")
        }
        var types: JSONTypes = []
        for name in names {
            guard let text = name.stringValue, let type = JSONTypes(schemaName: text) else {
                throw StreamStoreError(.invalidArgument, "The JSON Schema gives \"\(path)\" a type JSON Schema does not have: \(name).")
            }
            types.formUnion(type)
        }
        return types
    }

    private static func declared(_ path: String, parent: String?, types: JSONTypes, required: Bool, isUnderArray: Bool) -> FieldReport {
        FieldReport(
            path: path, parentPath: parent, types: types, present: 0, nulls: 0, possible: 0, required: required, isUnderArray: isUnderArray,
            firstByType: Array(repeating: nil, count: JSONTypes.all.count), first: nil, last: nil, firstMissing: nil)
    }
}

extension SchemaReport {
    /// The changes `candidate` (what a producer is about to write as `eventType` version
    /// `version`) makes to the history: compared with that version when the topic has it, else
    /// with the newest version below it (a new version). Nil `version`: the newest in the topic.
    /// A type the topic never had has no history to break.
    package func changes(against candidate: VersionReport, eventType: String, version: Int?) -> [SchemaChange] {
        guard let history = self.eventType(eventType) else { return [] }
        let valid = history.versions.filter { $0.version != nil }
        let target = version ?? valid.last?.version
        guard let target, let earlier = valid.last(where: { ($0.version ?? 0) <= target }) else { return [] }
        var later = candidate
        later.version = target
        return ShapeComparison.changes(from: earlier, to: later, eventType: eventType, scope: .against)
    }
}
