/// JSON output by hand: string escaping straight into the output buffer, base64 for bytes that
/// are not UTF-8, and a small value tree for the few structured outputs (`describe --json`).
///
/// Replay writes a JSON object per record; going through a generic encoder would allocate per
/// field, so the hot path appends bytes directly. Whatever is written parses with any JSON
/// parser: every control character is escaped and only valid UTF-8 is written as text.
enum JSONText {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `bytes` (which must be valid UTF-8) as a quoted, escaped JSON string.
    static func appendString(_ bytes: UnsafeRawBufferPointer, to output: BufferedOutput) {
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            // One compare for the common case: every byte above the backslash is plain text.
            guard byte <= UInt8(ascii: "\\") else { continue }
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index { output.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index])) }
            appendEscape(byte, to: output)
            runStart = index + 1
        }
        if runStart < bytes.count { output.append(UnsafeRawBufferPointer(rebasing: bytes[runStart...])) }
        output.append(UInt8(ascii: "\""))
    }

    static func appendString(_ text: String, to output: BufferedOutput) {
        var text = text
        text.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: output) }
    }

    /// `text` as a quoted JSON string.
    static func quoted(_ text: String) -> String {
        let output = BufferedOutput(capacityBytes: text.utf8.count + 16)
        appendString(text, to: output)
        return output.takeString()
    }

    private static func appendEscape(_ byte: UInt8, to output: BufferedOutput) {
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        case 0x08: output.append(UInt8(ascii: "b"))
        case 0x0C: output.append(UInt8(ascii: "f"))
        default:
            output.append(UInt8(ascii: "u"))
            output.append(UInt8(ascii: "0"))
            output.append(UInt8(ascii: "0"))
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
    }
}

/// Base64 encoding into stream-tool's output (decoding is in StreamToolSupport).
extension Base64 {
    static func append(_ bytes: UnsafeRawBufferPointer, to output: BufferedOutput) {
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let chunk = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            output.append(rest == 2 ? alphabet[Int(chunk >> 6 & 0x3F)] : UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        }
    }

    static func encode(_ bytes: [UInt8]) -> String {
        let output = BufferedOutput(capacityBytes: bytes.count * 4 / 3 + 8)
        bytes.withUnsafeBytes { append($0, to: output) }
        return output.takeString()
    }
}

/// A JSON value for small structured outputs, written with keys in the order given.
indirect enum JSONValue {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])
    /// Text that is already JSON (for example a `Codable` config encoded elsewhere).
    case raw(String)

    static func optional(_ value: Int64?) -> JSONValue {
        value.map { .integer($0) } ?? .null
    }

    func write(to output: BufferedOutput) {
        switch self {
        case .null: output.append("null")
        case .bool(let value): output.append(value ? "true" : "false")
        case .integer(let value): output.appendDecimal(value)
        case .string(let value): JSONText.appendString(value, to: output)
        case .raw(let text): output.append(text)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONText.appendString(member.0, to: output)
                output.append(UInt8(ascii: ":"))
                member.1.write(to: output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }
}
