import StreamStore

/// One record described by a line of `produce --format json`.
public struct JSONLineRecord: Equatable, Sendable {
    public var key: [UInt8]?
    /// Nil is Kafka's null value (a tombstone), written as `"value": null`.
    public var value: [UInt8]?
    public var headers: [RecordHeader] = []
    /// Milliseconds since the epoch, or nil for the append time.
    public var timestamp: Int64?
    public var partition: Int?

    public init(key: [UInt8]? = nil, value: [UInt8]? = nil, headers: [RecordHeader] = [], timestamp: Int64? = nil, partition: Int? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.partition = partition
    }
}

/// Parses one line of `produce --format json` into a ``JSONLineRecord``.
///
/// The line is one JSON object with these members, all optional except a value:
///
/// | member | meaning |
/// |---|---|
/// | `key` / `keyBase64` | the key as UTF-8 text, or base64 bytes; `null` or absent for no key |
/// | `value` / `valueBase64` | the value as UTF-8 text, or base64 bytes; `null` for a tombstone |
/// | `headers` | an object of header keys to strings (or `null`), kept in line order |
/// | `headersBase64` | headers whose values are base64 bytes |
/// | `timestamp` | milliseconds since the epoch, or an ISO 8601 string |
/// | `partition` | the partition, overriding the key's |
/// | `topic`, `offset` | ignored, so `replay --format json` output can be produced again |
///
/// Unknown members are errors, so that a misspelt `"vaule"` is not silently a tombstone. The
/// parser is self-contained and never traps on any input (a fuzz target drives it): bad input is
/// a ``Failure`` whose message names what is wrong.
public struct JSONLineParser {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        public init(message: String) {
            self.message = message
        }
    }

    /// Objects and arrays may nest this deep (only `headers` needs any nesting at all).
    public static let maxDepth = 16

    public static let knownMembers = ["key", "keyBase64", "value", "valueBase64", "headers", "headersBase64", "timestamp", "partition", "topic", "offset"]

    public static func parse(_ line: String) throws(Failure) -> JSONLineRecord {
        var line = line
        let result: Result<JSONLineRecord, Failure> = line.withUTF8 { bytes in
            do throws(Failure) { return .success(try parse(UnsafeRawBufferPointer(bytes))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one line (without its newline).
    public static func parse(_ line: UnsafeRawBufferPointer) throws(Failure) -> JSONLineRecord {
        var reader = JSONReader(bytes: line)
        let document = try reader.readDocument()
        guard case .object(let members) = document else {
            throw Failure(message: "expected a JSON object like {\"key\":\"k\",\"value\":\"v\"}")
        }
        return try record(from: members)
    }

    private static func record(from members: [(String, JSONNode)]) throws(Failure) -> JSONLineRecord {
        var record = JSONLineRecord()
        var seen = Set<String>()
        var sawValue = false
        for (name, node) in members {
            guard knownMembers.contains(name) else {
                throw Failure(message: "unknown member \"\(name)\"; expected \(knownMembers.prefix(8).joined(separator: ", "))")
            }
            guard seen.insert(name).inserted else { throw Failure(message: "member \"\(name)\" appears twice") }
            switch name {
            case "key", "keyBase64":
                guard !(seen.contains("key") && seen.contains("keyBase64")) else {
                    throw Failure(message: "give \"key\" or \"keyBase64\", not both")
                }
                record.key = try bytes(of: node, name: name, base64: name == "keyBase64")
            case "value", "valueBase64":
                guard !(seen.contains("value") && seen.contains("valueBase64")) else {
                    throw Failure(message: "give \"value\" or \"valueBase64\", not both")
                }
                record.value = try bytes(of: node, name: name, base64: name == "valueBase64")
                sawValue = true
            case "headers", "headersBase64":
                try appendHeaders(of: node, name: name, base64: name == "headersBase64", to: &record.headers)
            case "timestamp":
                record.timestamp = try timestamp(of: node)
            case "partition":
                switch node {
                case .null: record.partition = nil
                case .integer(let value) where value >= 0 && value <= Int64(Int32.max): record.partition = Int(value)
                default: throw Failure(message: "\"partition\" must be a non-negative whole number")
                }
            default:
                break  // topic, offset: context from replay output, not record data
            }
        }
        guard sawValue else {
            throw Failure(message: "missing \"value\" or \"valueBase64\" (write \"value\":null for a tombstone)")
        }
        return record
    }

    private static func bytes(of node: JSONNode, name: String, base64: Bool) throws(Failure) -> [UInt8]? {
        switch node {
        case .null:
            return nil
        case .string(let bytes):
            guard base64 else { return bytes }
            guard let decoded = Base64.decode(bytes) else { throw Failure(message: "\"\(name)\" is not valid base64") }
            return decoded
        default:
            throw Failure(message: "\"\(name)\" must be a string or null")
        }
    }

    private static func appendHeaders(of node: JSONNode, name: String, base64: Bool, to headers: inout [RecordHeader]) throws(Failure) {
        switch node {
        case .null:
            return
        case .object(let members):
            for (key, value) in members {
                let bytes = try self.bytes(of: value, name: "\(name).\(key)", base64: base64)
                headers.append(RecordHeader(key: key, value: bytes))
            }
        default:
            throw Failure(message: "\"\(name)\" must be an object of strings, like {\"event-type\":\"order-placed\"}")
        }
    }

    private static func timestamp(of node: JSONNode) throws(Failure) -> Int64? {
        switch node {
        case .null:
            return nil
        case .integer(let value) where value >= 0:
            return value
        case .string(let bytes):
            let text = String(decoding: bytes, as: UTF8.self)
            guard let milliseconds = ISO8601.timeMilliseconds(text) else {
                throw Failure(message: "\"timestamp\": \(ISO8601.invalidTimeMessage(text))")
            }
            return milliseconds
        default:
            throw Failure(message: "\"timestamp\" must be milliseconds since the epoch or an ISO 8601 string")
        }
    }
}

/// A parsed JSON value, as much of JSON as a line needs: strings are kept as UTF-8 bytes,
/// numbers only as whole numbers that fit an Int64 (the only numbers a line holds).
indirect enum JSONNode: Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A number with a fraction or exponent, kept as text: valid JSON, but no member takes one.
    case otherNumber
    case string([UInt8])
    case array([JSONNode])
    case object([(String, JSONNode)])

    static func == (lhs: JSONNode, rhs: JSONNode) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null), (.otherNumber, .otherNumber): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// A strict RFC 8259 reader over one line's bytes. Every index is checked before use.
private struct JSONReader {
    typealias Failure = JSONLineParser.Failure

    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func readDocument() throws(Failure) -> JSONNode {
        skipWhitespace()
        let node = try readValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected text after the JSON value") }
        return node
    }

    private func fail(_ message: String) -> Failure {
        Failure(message: "\(message) (at byte \(index + 1))")
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private mutating func expect(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of line") }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw fail("invalid literal; expected \(literal)")
        }
        index += count
    }

    private mutating func readValue(depth: Int) throws(Failure) -> JSONNode {
        guard depth <= JSONLineParser.maxDepth else { throw fail("nested deeper than \(JSONLineParser.maxDepth) levels") }
        guard let byte = current else { throw fail("unexpected end of line; expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return try readObject(depth: depth)
        case UInt8(ascii: "["): return try readArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default: throw fail("unexpected character; expected a JSON value")
        }
    }

    private mutating func readObject(depth: Int) throws(Failure) -> JSONNode {
        index += 1
        var members: [(String, JSONNode)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw fail("expected a member name in double quotes") }
            let name = String(decoding: try readString(), as: UTF8.self)
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw fail("expected ':' after member name") }
            index += 1
            skipWhitespace()
            members.append((name, try readValue(depth: depth + 1)))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw fail("expected ',' or '}' in object")
            }
        }
    }

    private mutating func readArray(depth: Int) throws(Failure) -> JSONNode {
        index += 1
        var elements: [JSONNode] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue(depth: depth + 1))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw fail("expected ',' or ']' in array")
            }
        }
    }

    private mutating func readNumber() throws(Failure) -> JSONNode {
        let start = index
        let negative = current == UInt8(ascii: "-")
        if negative { index += 1 }
        guard let first = current, isDigit(first) else { throw fail("invalid number") }
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while let byte = current, isDigit(byte) { index += 1 }
        }
        let integerEnd = index
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let byte = current, isDigit(byte) else { throw fail("invalid number: digits must follow '.'") }
            while let byte = current, isDigit(byte) { index += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let byte = current, isDigit(byte) else { throw fail("invalid number: digits must follow the exponent") }
            while let byte = current, isDigit(byte) { index += 1 }
        }
        guard isInteger else { return .otherNumber }
        var value: Int64 = 0
        for position in (negative ? start + 1 : start)..<integerEnd {
            let digit = Int64(bytes[position] - UInt8(ascii: "0"))
            let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = multiplied.subtractingReportingOverflow(digit)  // accumulate negatively: Int64.min fits
            guard !overflow1 && !overflow2 else { throw fail("number out of range") }
            value = added
        }
        if negative { return .integer(value) }
        guard value != Int64.min else { throw fail("number out of range") }
        return .integer(-value)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Reads a string at `index` (on its opening quote) and returns its UTF-8 bytes, escapes
    /// resolved. Raw bytes must be valid UTF-8 and control characters must be escaped.
    private mutating func readString() throws(Failure) -> [UInt8] {
        index += 1
        var result: [UInt8] = []
        var runStart = index
        while true {
            guard let byte = current else { throw fail("unterminated string") }
            if byte == UInt8(ascii: "\"") {
                try appendRaw(runStart..<index, to: &result)
                index += 1
                return result
            }
            if byte < 0x20 { throw fail("control character in string; escape it") }
            if byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            try appendRaw(runStart..<index, to: &result)
            index += 1
            guard let escape = current else { throw fail("unterminated escape") }
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(escape)
            case UInt8(ascii: "b"): result.append(0x08)
            case UInt8(ascii: "f"): result.append(0x0C)
            case UInt8(ascii: "n"): result.append(0x0A)
            case UInt8(ascii: "r"): result.append(0x0D)
            case UInt8(ascii: "t"): result.append(0x09)
            case UInt8(ascii: "u"): try appendUnicodeEscape(to: &result)
            default: throw fail("invalid escape \\\(Unicode.Scalar(escape))")
            }
            runStart = index
        }
    }

    private func appendRaw(_ range: Range<Int>, to result: inout [UInt8]) throws(Failure) {
        guard !range.isEmpty else { return }
        let run = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard UTF8Validation.isValid(run) else { throw fail("string is not valid UTF-8; use keyBase64/valueBase64 for bytes") }
        result.append(contentsOf: run)
    }

    private mutating func readHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func appendUnicodeEscape(to result: inout [UInt8]) throws(Failure) {
        var scalarValue = try readHex4()
        if (0xD800...0xDBFF).contains(scalarValue) {
            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw fail("unpaired surrogate in \\u escape")
            }
            index += 2
            let low = try readHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
            scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw fail("unpaired surrogate in \\u escape") }
        UTF8.encode(scalar) { result.append($0) }
    }
}
