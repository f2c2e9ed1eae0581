/// The tokens of JSON (RFC 8259) read from bytes, one at a time: what the event decoder's
/// parser (``JSONValue/init(parsing:)``) and the schema check's shape walker share. It only
/// moves over the bytes and says where each token lies; building values is the caller's.
/// Every index is checked before it is read.
package struct JSONCursor {
    /// A token that breaks the grammar.
    package struct Malformed: Error {
        package var reason: String

        package init(reason: String) {
            self.reason = reason
        }
    }

    package let bytes: UnsafeRawBufferPointer
    package var index = 0

    package init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// True when every byte is read.
    package var isAtEnd: Bool { index >= bytes.count }

    /// The byte at the cursor, or nil at the end.
    package var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    package mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Skips `byte` after any whitespace; false (nothing skipped but the whitespace) when the
    /// next byte is another.
    package mutating func skip(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// After an array element or an object member: true at `,`, false at `close` (both skipped).
    package mutating func continues(before close: UInt8) throws(Malformed) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw Malformed(reason: "the JSON ends early") }
        if bytes[index] == UInt8(ascii: ",") {
            index += 1
            return true
        }
        guard bytes[index] == close else { throw Malformed(reason: "expected ',' or '\(Character(Unicode.Scalar(close)))'") }
        index += 1
        return false
    }

    /// `true`, `false` or `null`, at the cursor.
    package mutating func literal(_ word: StaticString) throws(Malformed) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw Malformed(reason: "the JSON ends early") }
        let start = index
        let matches = word.withUTF8Buffer { expected in
            var equal = true
            for offset in 0..<count where bytes[start + offset] != expected[offset] { equal = false }
            return equal
        }
        guard matches else { throw Malformed(reason: "unexpected character") }
        index += count
    }

    /// A string from its opening quote: where its bytes lie (between the quotes) and whether
    /// they hold escapes, which the caller resolves. Control characters are refused.
    package mutating func string() throws(Malformed) -> (bytes: Range<Int>, escaped: Bool) {
        index += 1
        let start = index
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return (start..<(index - 1), escaped)
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                index += 2
                continue
            }
            guard byte >= 0x20 else { throw Malformed(reason: "a control character inside a string") }
            index += 1
        }
        throw Malformed(reason: "a string without its closing quote")
    }

    /// A number by JSON's grammar: where it lies, and whether it is an integer (no fraction,
    /// no exponent).
    package mutating func number() throws(Malformed) -> (text: Range<Int>, isInteger: Bool) {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw Malformed(reason: "a number without digits") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw Malformed(reason: "a fraction without digits") }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw Malformed(reason: "an exponent without digits") }
            skipDigits()
        }
        return (start..<index, isInteger)
    }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
