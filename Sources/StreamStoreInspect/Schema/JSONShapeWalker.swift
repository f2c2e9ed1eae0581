import StreamStore

/// A field seen in one record, with the JSON type of its value.
struct FieldSighting {
    var field: Int32
    var type: JSONTypes
}

/// Walks one JSON value's bytes and lists the field paths it holds with their types, without
/// building the value: the schema check's one pass over a topic does this per record.
///
/// It checks the structure with the decoder's ``JSONCursor`` (brackets, commas, quotes,
/// literals, the number grammar), so a value that is not JSON is counted as such rather than
/// half-read; it does not resolve escapes in values nor check that strings are valid UTF-8. Sightings go to a list that the caller applies only when the whole value
/// parsed, so a broken value leaves no trace in the shape.
struct JSONShapeWalker {
    typealias Malformed = JSONCursor.Malformed

    var cursor: JSONCursor
    let shape: VersionShape

    /// The pseudo-field of an array's elements.
    static let elementName: [UInt8] = Array("[]".utf8)

    init(bytes: UnsafeRawBufferPointer, shape: VersionShape) {
        cursor = JSONCursor(bytes: bytes)
        self.shape = shape
    }

    /// Walks the value, which must be one JSON object; false when it is not.
    mutating func walkObjectDocument(into sightings: inout [FieldSighting]) -> Bool {
        do throws(Malformed) {
            cursor.skipWhitespace()
            guard cursor.current == UInt8(ascii: "{") else { return false }
            _ = try value(field: -1, depth: 0, into: &sightings)
            cursor.skipWhitespace()
            return cursor.isAtEnd
        } catch {
            return false
        }
    }

    /// Walks one value; `field` is the path it sits at (-1: the event's object; nil: not tracked).
    private mutating func value(field: Int32?, depth: Int, into sightings: inout [FieldSighting]) throws(Malformed) -> JSONTypes {
        guard let byte = cursor.current, depth <= Limits.maxEventJSONDepth else { throw Malformed(reason: "the JSON ends early or nests too deep") }
        switch byte {
        case UInt8(ascii: "{"):
            try object(parent: field, depth: depth, into: &sightings)
            return .object
        case UInt8(ascii: "["):
            try array(parent: field, depth: depth, into: &sightings)
            return .array
        case UInt8(ascii: "\""):
            _ = try cursor.string()
            return .string
        case UInt8(ascii: "t"):
            try cursor.literal("true")
            return .boolean
        case UInt8(ascii: "f"):
            try cursor.literal("false")
            return .boolean
        case UInt8(ascii: "n"):
            try cursor.literal("null")
            return .null
        default:
            return try cursor.number().isInteger ? .integer : .number
        }
    }

    private mutating func object(parent: Int32?, depth: Int, into sightings: inout [FieldSighting]) throws(Malformed) {
        cursor.index += 1
        if cursor.skip(UInt8(ascii: "}")) { return }
        repeat {
            cursor.skipWhitespace()
            guard cursor.current == UInt8(ascii: "\"") else { throw Malformed(reason: "expected a member name") }
            let (name, escaped) = try cursor.string()
            guard cursor.skip(UInt8(ascii: ":")) else { throw Malformed(reason: "expected ':'") }
            cursor.skipWhitespace()
            var member: Int32?
            if let parent {
                if escaped {
                    member = unescapedField(parent: parent, quoted: UnsafeRawBufferPointer(rebasing: cursor.bytes[(name.lowerBound - 1)..<(name.upperBound + 1)]))
                } else {
                    let bytes = UnsafeRawBufferPointer(rebasing: cursor.bytes[name])
                    member = shape.field(parent: parent, name: bytes, hash: Self.hash(bytes, parent: parent))
                }
            }
            let type = try value(field: member, depth: depth + 1, into: &sightings)
            if let member { sightings.append(FieldSighting(field: member, type: type)) }
        } while try cursor.continues(before: UInt8(ascii: "}"))
    }

    /// A member name with escapes: its field under the name the escapes spell.
    private func unescapedField(parent: Int32, quoted: UnsafeRawBufferPointer) -> Int32? {
        guard let name = try? JSONValue(parsing: quoted).stringValue else { return nil }
        return Array(name.utf8).withUnsafeBytes { shape.field(parent: parent, name: $0, hash: Self.hash($0, parent: parent)) }
    }

    private mutating func array(parent: Int32?, depth: Int, into sightings: inout [FieldSighting]) throws(Malformed) {
        cursor.index += 1
        let shape = self.shape
        let elements: Int32? = parent.flatMap { parent in
            Self.elementName.withUnsafeBytes { shape.field(parent: parent, name: $0, hash: Self.hash($0, parent: parent)) }
        }
        if cursor.skip(UInt8(ascii: "]")) { return }
        repeat {
            cursor.skipWhitespace()
            let type = try value(field: elements, depth: depth + 1, into: &sightings)
            if let elements { sightings.append(FieldSighting(field: elements, type: type)) }
        } while try cursor.continues(before: UInt8(ascii: "]"))
    }

    /// FNV-1a of the name, seeded with the parent field.
    static func hash(_ name: UnsafeRawBufferPointer, parent: Int32) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ (UInt64(UInt32(bitPattern: parent)) &* 0x9E37_79B9_7F4A_7C15)
        for byte in name {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
