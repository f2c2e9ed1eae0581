/// A JSON value, as an upcaster sees an old event: parsed from the record's bytes, changed in
/// place, and written back for the event's Swift type to decode.
///
/// Numbers without a fraction or exponent that fit an `Int64` are ``integer(_:)``; every other
/// number is ``double(_:)``. Strings are Swift strings (escapes resolved).
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A whole number that fits an `Int64`.
    case integer(Int64)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object; the order of its members is not kept.
    case object(JSONObject)

    /// The member `key` of an object; nil when absent or when this is not an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The members, when this is an object.
    public var objectValue: JSONObject? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }

    /// The text, when this is a string.
    public var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// The number, when this is an integer (a double with a whole value that fits counts too).
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let value): return Int64(exactly: value)
        default: return nil
        }
    }

    /// The number, when this is an integer or a double.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The truth value, when this is a boolean.
    public var boolValue: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    /// True for `null`.
    public var isNull: Bool { self == .null }
}

/// The members of a JSON object by name: what an upcaster changes (``EventDecoder``).
public typealias JSONObject = [String: JSONValue]

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// A string value: `json["currency"] = "EUR"`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer value: `json["quantity"] = 1`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A double value.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A boolean value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `null`: `json["coupon"] = .null` sets a member to null (assigning `nil` removes it).
    public init(nilLiteral: ()) { self = .null }
    /// An array value.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object value; a repeated key keeps its last value.
    public init(dictionaryLiteral members: (String, JSONValue)...) {
        self = .object(JSONObject(members, uniquingKeysWith: { $1 }))
    }
}
