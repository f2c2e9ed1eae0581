/// Just enough of a Swift lexer to check rules about source files: it separates code from
/// comments and string literals, so a rule can look at code alone (a force-unwrap) or at the
/// text of string literals alone (what a message says).
///
/// It knows line and block comments (nested), string literals (single-line, multi-line and raw,
/// with escapes) and interpolation, whose code is code again. It does not know regex literals,
/// which the sources do not use.
struct SwiftSourceScanner {
    /// The source with comments and string-literal text blanked to spaces (line breaks kept, so
    /// line numbers still hold); the quotes themselves stay.
    private(set) var code: [UInt8] = []
    /// Each string literal's text (interpolated code left out) and the line it starts on.
    private(set) var literals: [(line: Int, text: String)] = []

    init(_ source: String) {
        var lexer = Lexer(bytes: Array(source.utf8))
        lexer.run()
        code = lexer.code
        literals = lexer.literals
    }

    /// Lines (1-based) with a postfix `!` in code: a force-unwrap, an implicitly unwrapped
    /// optional, `try!` or `as!`. A prefix `!` (negation) and `!=` are not.
    var forceUnwrapLines: [Int] {
        var lines: [Int] = []
        var line = 1
        for index in code.indices {
            let byte = code[index]
            if byte == UInt8(ascii: "\n") { line += 1 }
            guard byte == UInt8(ascii: "!"), index > 0 else { continue }
            let next = index + 1 < code.count ? code[index + 1] : 0
            guard next != UInt8(ascii: "=") else { continue }
            if Self.endsAnOperand(code[index - 1]), lines.last != line { lines.append(line) }
        }
        return lines
    }

    /// A byte that can end an expression or a type, so that a `!` right after it is postfix.
    private static func endsAnOperand(_ byte: UInt8) -> Bool {
        isIdentifierByte(byte) || byte == UInt8(ascii: ")") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "!")
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte >= 0x80
    }
}

/// The lexer behind ``SwiftSourceScanner``: one pass, a stack of open string literals, each
/// with the depth of parentheses of the interpolation being read inside it.
private struct Lexer {
    let bytes: [UInt8]
    var code: [UInt8] = []
    var literals: [(line: Int, text: String)] = []
    private var index = 0
    private var line = 1

    /// An open string literal: its delimiter, its text so far, and while inside `\(...)`, how
    /// many parentheses are open there (0 when reading the literal's own text).
    private struct OpenLiteral {
        var hashes: Int
        var isMultiline: Bool
        var startLine: Int
        var text: [UInt8] = []
        var interpolationDepth = 0
    }
    private var open: [OpenLiteral] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
        code.reserveCapacity(bytes.count)
    }

    mutating func run() {
        while index < bytes.count {
            if let literal = open.last, literal.interpolationDepth == 0 {
                readLiteralByte()
            } else {
                readCodeByte()
            }
        }
    }

    private func peek(_ offset: Int) -> UInt8 {
        index + offset < bytes.count ? bytes[index + offset] : 0
    }

    private func hasPrefix(_ text: String, at position: Int) -> Bool {
        let pattern = Array(text.utf8)
        guard position + pattern.count <= bytes.count else { return false }
        return Array(bytes[position..<(position + pattern.count)]) == pattern
    }

    /// Copies `count` bytes of code as they are.
    private mutating func keep(_ count: Int) {
        for _ in 0..<count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") { line += 1 }
            code.append(byte)
            index += 1
        }
    }

    /// Replaces `count` bytes with spaces (line breaks stay).
    private mutating func blank(_ count: Int, into text: Bool = false) {
        for _ in 0..<count where index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                code.append(byte)
            } else {
                code.append(UInt8(ascii: " "))
            }
            if text, !open.isEmpty { open[open.count - 1].text.append(byte) }
            index += 1
        }
    }

    private mutating func readCodeByte() {
        let byte = bytes[index]
        if byte == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/") {
            while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { blank(1) }
            return
        }
        if byte == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
            var depth = 0
            repeat {
                if hasPrefix("/*", at: index) {
                    depth += 1
                    blank(2)
                } else if hasPrefix("*/", at: index) {
                    depth -= 1
                    blank(2)
                } else {
                    blank(1)
                }
            } while depth > 0 && index < bytes.count
            return
        }
        if byte == UInt8(ascii: "#") || byte == UInt8(ascii: "\"") {
            var hashes = 0
            while peek(hashes) == UInt8(ascii: "#") { hashes += 1 }
            if peek(hashes) == UInt8(ascii: "\"") {
                let isMultiline = hasPrefix("\"\"\"", at: index + hashes)
                open.append(OpenLiteral(hashes: hashes, isMultiline: isMultiline, startLine: line))
                keep(hashes + (isMultiline ? 3 : 1))
                return
            }
        }
        if !open.isEmpty {
            if byte == UInt8(ascii: "(") { open[open.count - 1].interpolationDepth += 1 }
            if byte == UInt8(ascii: ")") { open[open.count - 1].interpolationDepth -= 1 }
        }
        keep(1)
    }

    private mutating func readLiteralByte() {
        guard let literal = open.last else { return }
        let closing = String(repeating: "\"", count: literal.isMultiline ? 3 : 1) + String(repeating: "#", count: literal.hashes)
        if hasPrefix(closing, at: index) {
            literals.append((literal.startLine, String(decoding: literal.text, as: UTF8.self)))
            open.removeLast()
            keep(closing.utf8.count)
            return
        }
        let escape = "\\" + String(repeating: "#", count: literal.hashes)
        if hasPrefix(escape, at: index) {
            let afterEscape = index + escape.utf8.count
            if afterEscape < bytes.count && bytes[afterEscape] == UInt8(ascii: "(") {
                // Interpolated code is code: back to code mode until its parentheses close.
                blank(escape.utf8.count)
                open[open.count - 1].interpolationDepth = 1
                keep(1)
                return
            }
            blank(escape.utf8.count + 1, into: true)
            return
        }
        blank(1, into: true)
    }
}
