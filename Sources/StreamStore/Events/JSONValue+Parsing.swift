extension JSONValue {
    /// Parses one JSON document (RFC 8259, strictly: no trailing commas, comments or text after
    /// the value). Bad input is `.eventDecodingFailed`, saying what is wrong at which byte;
    /// nesting deeper than ``/StreamStoreFormat/Limits/maxEventJSONDepth`` is refused the same way.
    public init(parsing json: some Collection<UInt8>) throws(StreamStoreError) {
        let parsed: Result<JSONValue, JSONParseFailure> =
            json.withContiguousStorageIfAvailable { buffer in
                Self.parse(UnsafeRawBufferPointer(buffer))
            } ?? Array(json).withUnsafeBytes { Self.parse($0) }
        switch parsed {
        case .success(let value): self = value
        case .failure(let failure):
            throw StreamStoreError(.eventDecodingFailed, "The value is not valid JSON: \(failure.reason) at byte \(failure.position).")
        }
    }

    /// Parses `bytes` as one JSON document.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONValue, JSONParseFailure> {
        var parser = JSONParser(bytes: bytes)
        do throws(JSONParseFailure) {
            return .success(try parser.document())
        } catch {
            return .failure(error)
        }
    }
}

/// Why a JSON document did not parse, and where.
struct JSONParseFailure: Error {
    var reason: String
    var position: Int
}

/// A recursive-descent parser that builds ``JSONValue``s from a ``JSONCursor``'s tokens.
private struct JSONParser {
    typealias Malformed = JSONCursor.Malformed

    var cursor: JSONCursor

    init(bytes: UnsafeRawBufferPointer) {
        cursor = JSONCursor(bytes: bytes)
    }

    mutating func document() throws(JSONParseFailure) -> JSONValue {
        do throws(Malformed) {
            cursor.skipWhitespace()
            let value = try self.value(depth: 0)
            cursor.skipWhitespace()
            guard cursor.isAtEnd else { throw Malformed(reason: "text after the JSON value") }
            return value
        } catch {
            throw JSONParseFailure(reason: error.reason, position: cursor.index)
        }
    }

    private mutating func value(depth: Int) throws(Malformed) -> JSONValue {
        guard let byte = cursor.current else { throw Malformed(reason: "the JSON ends early") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try cursor.literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try cursor.literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try cursor.literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw Malformed(reason: "unexpected character")
        }
    }

    private mutating func object(depth: Int) throws(Malformed) -> JSONValue {
        guard depth <= Limits.maxEventJSONDepth else { throw Malformed(reason: "nesting deeper than \(Limits.maxEventJSONDepth)") }
        cursor.index += 1
        var members = JSONObject()
        if cursor.skip(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            cursor.skipWhitespace()
            guard cursor.current == UInt8(ascii: "\"") else { throw Malformed(reason: "expected a member name") }
            let key = try string()
            guard cursor.skip(UInt8(ascii: ":")) else { throw Malformed(reason: "expected ':'") }
            cursor.skipWhitespace()
            members[key] = try value(depth: depth)
        } while try cursor.continues(before: UInt8(ascii: "}"))
        return .object(members)
    }

    private mutating func array(depth: Int) throws(Malformed) -> JSONValue {
        guard depth <= Limits.maxEventJSONDepth else { throw Malformed(reason: "nesting deeper than \(Limits.maxEventJSONDepth)") }
        cursor.index += 1
        var elements: [JSONValue] = []
        if cursor.skip(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            cursor.skipWhitespace()
            elements.append(try value(depth: depth))
        } while try cursor.continues(before: UInt8(ascii: "]"))
        return .array(elements)
    }

    /// A string at the cursor, escapes resolved, UTF-8 checked.
    private mutating func string() throws(Malformed) -> String {
        let (range, escaped) = try cursor.string()
        let raw = UnsafeRawBufferPointer(rebasing: cursor.bytes[range])
        let text = escaped ? String(validating: try Self.unescape(raw), as: UTF8.self) : String(validating: raw, as: UTF8.self)
        guard let text else { throw Malformed(reason: "a string that is not UTF-8") }
        return text
    }

    /// The bytes of a string's escapes resolved: `\n`, `\"`, `\u00e9`, surrogate pairs.
    private static func unescape(_ raw: UnsafeRawBufferPointer) throws(Malformed) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                continue
            }
            guard index < raw.count else { throw Malformed(reason: "an invalid escape") }
            let escape = raw[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(raw, at: &index)
                if (0xD800...0xDBFF).contains(scalar) {
                    guard raw.count - index >= 6, raw[index] == UInt8(ascii: "\\"), raw[index + 1] == UInt8(ascii: "u") else {
                        throw Malformed(reason: "a lone UTF-16 surrogate")
                    }
                    index += 2
                    let low = try hex4(raw, at: &index)
                    guard (0xDC00...0xDFFF).contains(low) else { throw Malformed(reason: "a lone UTF-16 surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw Malformed(reason: "a lone UTF-16 surrogate")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Malformed(reason: "an invalid \\u escape") }
                UTF8.encode(unicode) { output.append($0) }
            default:
                throw Malformed(reason: "an invalid escape")
            }
        }
        return output
    }

    private static func hex4(_ raw: UnsafeRawBufferPointer, at index: inout Int) throws(Malformed) -> UInt32 {
        guard raw.count - index >= 4 else { throw Malformed(reason: "an invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = raw[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Malformed(reason: "an invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// A number: an `Int64` when it has no fraction or exponent and fits, else a `Double`.
    private mutating func number() throws(Malformed) -> JSONValue {
        let (range, isInteger) = try cursor.number()
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: cursor.bytes[range]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        guard let double = Double(text), double.isFinite else { throw Malformed(reason: "a number out of range") }
        return .double(double)
    }
}
