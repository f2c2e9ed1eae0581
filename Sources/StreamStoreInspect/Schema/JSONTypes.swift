/// The JSON types a field held, as a set.
///
/// `integer` is a number without fraction or exponent; the check treats it and `number` as one
/// type (``families``), because JSON cannot tell an integer field from a number field whose
/// values happen to be whole (Swift's encoder writes 10.0 as `10`).
package struct JSONTypes: OptionSet, Sendable, Hashable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    package static let null = JSONTypes(rawValue: 1 << 0)
    package static let boolean = JSONTypes(rawValue: 1 << 1)
    package static let integer = JSONTypes(rawValue: 1 << 2)
    package static let number = JSONTypes(rawValue: 1 << 3)
    package static let string = JSONTypes(rawValue: 1 << 4)
    package static let object = JSONTypes(rawValue: 1 << 5)
    package static let array = JSONTypes(rawValue: 1 << 6)

    /// Every type, in the order names are listed.
    package static let all: [(JSONTypes, String)] = [
        (.string, "string"), (.integer, "integer"), (.number, "number"), (.boolean, "boolean"), (.object, "object"), (.array, "array"), (.null, "null"),
    ]

    /// The position of a single type in ``all`` (for per-type examples).
    package var index: Int {
        Self.all.firstIndex { $0.0 == self } ?? 0
    }

    /// The types without null, integer folded into number: what a reader's field type must accept.
    package var families: JSONTypes {
        var families = subtracting(.null)
        if families.contains(.integer) { families.remove(.integer); families.insert(.number) }
        return families
    }

    /// `string`, `integer|null`, ...: the names joined by `|`; `unknown` for none.
    package var text: String {
        let names = Self.all.filter { contains($0.0) }.map(\.1)
        return names.isEmpty ? "unknown" : names.joined(separator: "|")
    }

    /// The names, as JSON output lists them.
    package var names: [String] {
        Self.all.filter { contains($0.0) }.map(\.1)
    }

    /// The type of a JSON Schema `type` name; nil for a name JSON Schema does not have.
    package init?(schemaName: String) {
        switch schemaName {
        case "string": self = .string
        case "integer": self = .integer
        case "number": self = [.number, .integer]
        case "boolean": self = .boolean
        case "object": self = .object
        case "array": self = .array
        case "null": self = .null
        default: return nil
        }
    }
}
