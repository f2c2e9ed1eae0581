#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ANSI colours for people at a terminal, and only for them: a stream gets colour when it is a
/// terminal, `NO_COLOR` is unset or empty (https://no-color.org), and `TERM` is not `dumb`.
/// Pipes, files and scripts always get plain text.
struct Colours {
    let isEnabled: Bool

    /// For what goes to stdout.
    static let standardOutput = Colours(isEnabled: allowed(forDescriptor: 1))
    /// For what goes to stderr (the `error:` line).
    static let standardError = Colours(isEnabled: allowed(forDescriptor: 2))

    static func allowed(forDescriptor fd: Int32) -> Bool {
        guard isatty(fd) != 0 else { return false }
        if let noColour = getenv("NO_COLOR"), noColour.pointee != 0 { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }

    func red(_ text: String) -> String { wrap(text, "31") }
    func green(_ text: String) -> String { wrap(text, "32") }
    func yellow(_ text: String) -> String { wrap(text, "33") }
    func bold(_ text: String) -> String { wrap(text, "1") }
    /// Bold red, for the `error:` prefix.
    func failure(_ text: String) -> String { wrap(text, "1;31") }

    private func wrap(_ text: String, _ code: String) -> String {
        isEnabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
