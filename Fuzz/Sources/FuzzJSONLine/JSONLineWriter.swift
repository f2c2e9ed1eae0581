import StreamStore
import StreamStoreFuzzEntryPoints

/// Writes a ``JSONLineRecord`` back as a line the parser accepts, independently of stream-tool's
/// own writer: every control character, quote and backslash escaped, and key, value and header
/// values that are not valid UTF-8 written as base64 members.
enum JSONLineWriter {
    /// The times ISO8601.format writes exactly: years 0000 to 9999 (it clamps the others).
    static let formattable: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999

    /// The line, or nil when the record cannot be written so it parses back the same: a timestamp
    /// before 1970 is accepted only as ISO 8601 text, and ISO 8601 text covers only years 0...9999.
    static func line(for record: JSONLineRecord) -> [UInt8]? {
        var members: [String] = []
        if let key = record.key { members.append(bytesMember("key", key)) }
        members.append(record.value.map { bytesMember("value", $0) } ?? #""value":null"#)
        if !record.headers.isEmpty {
            // One member keeps the headers' order: plain text when every value is text, else base64.
            let asText = record.headers.allSatisfy { $0.value.map(UTF8Validation.isValid) ?? true }
            let entries = record.headers.map { header in
                quoted(Array(header.key.utf8)) + ":" + (header.value.map { asText ? quoted($0) : quoted(base64($0)) } ?? "null")
            }
            members.append((asText ? #""headers":{"# : #""headersBase64":{"#) + entries.joined(separator: ",") + "}")
        }
        if let timestamp = record.timestamp {
            if timestamp >= 0 {
                members.append(#""timestamp":\#(timestamp)"#)
            } else if formattable.contains(timestamp) {
                members.append(#""timestamp":"\#(ISO8601.format(milliseconds: timestamp))""#)
            } else {
                return nil
            }
        }
        if let partition = record.partition { members.append(#""partition":\#(partition)"#) }
        return Array(("{" + members.joined(separator: ",") + "}").utf8)
    }

    private static func bytesMember(_ name: String, _ bytes: [UInt8]) -> String {
        UTF8Validation.isValid(bytes) ? quoted(name.utf8) + ":" + quoted(bytes) : quoted((name + "Base64").utf8) + ":" + quoted(base64(bytes))
    }

    /// A JSON string of valid UTF-8 `bytes`.
    private static func quoted<S: Sequence<UInt8>>(_ bytes: S) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        let hex = Array("0123456789abcdef".utf8)
        for byte in bytes {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out += [UInt8(ascii: "\\"), byte]
            } else if byte < 0x20 {
                out += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            } else {
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard base64 with padding (RFC 4648), written here rather than taken from stream-tool.
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (shift, byte) in zip([16, 8, 0], chunk) { value |= UInt32(byte) << UInt32(shift) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? Base64.alphabet[Int(value >> UInt32(18 - 6 * position) & 0x3F)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return out
    }
}
