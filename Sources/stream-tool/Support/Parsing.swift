import StreamStore

/// The value spellings CLI.md promises: durations, byte sizes, times and `K=V` headers.
///
/// Each parser throws a ``ToolError`` whose message shows the accepted forms, so a typo gets an
/// answer instead of a guess.
enum Parsing {
    // MARK: Durations

    private static let durationUnits: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// `500ms`, `30s`, `15m`, `12h`, `7d` → milliseconds. Zero and negative durations are
    /// rejected: no setting that takes a duration means anything with them.
    static func durationMilliseconds(_ text: String, for what: String = "duration") throws(ToolError) -> Int64 {
        let failure = ToolError("\"\(text)\" is not a valid \(what): write a duration as a whole number and a unit, like 500ms, 30s, 15m, 12h or 7d.")
        // Try the two-letter unit first, so `500ms` is not read as 500 of `s` with junk.
        for unit in durationUnits.sorted(by: { $0.suffix.count > $1.suffix.count }) where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            guard let count = wholeNumber(number) else { throw failure }
            let (milliseconds, overflow) = count.multipliedReportingOverflow(by: unit.milliseconds)
            guard !overflow else { throw ToolError("\"\(text)\" is too long a \(what).") }
            guard milliseconds > 0 else { throw ToolError("The \(what) must be positive, not \(text).") }
            return milliseconds
        }
        throw failure
    }

    /// The words that mean "no limit" for `--retention` and `--retention-bytes`.
    static let unlimitedSpellings: Set<String> = ["unlimited", "none"]

    /// A duration limit: milliseconds, or nil for `unlimited` (or `none`).
    static func durationLimitMilliseconds(_ text: String, for what: String) throws(ToolError) -> Int64? {
        if unlimitedSpellings.contains(text) { return nil }
        do {
            return try durationMilliseconds(text, for: what)
        } catch {
            throw ToolError(error.message.replacingSuffix(".", with: ", or unlimited."))
        }
    }

    /// A de-duplication window: a duration, or `off` (also `none`) for no de-duplication.
    static func dedupeWindowMilliseconds(_ text: String) throws(ToolError) -> Int64? {
        if text == "off" || text == "none" { return nil }
        do {
            return try durationMilliseconds(text, for: "dedupe window")
        } catch {
            throw ToolError(error.message.replacingSuffix(".", with: ", or off."))
        }
    }

    // MARK: Byte sizes

    private static let sizeUnits: [(suffix: String, bytes: Int64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("B", 1),
    ]

    /// `1048576`, `64KiB`, `256MiB`, `1GiB` → bytes. Decimal units (`MB`) are refused rather than
    /// guessed, since the two readings differ by 5%.
    static func byteCount(_ text: String, for what: String = "size") throws(ToolError) -> Int64 {
        let failure = ToolError("\"\(text)\" is not a valid \(what): write a size in bytes or with a binary unit, like 1048576, 64KiB, 256MiB or 1GiB.")
        var number = Substring(text)
        var multiplier: Int64 = 1
        for unit in sizeUnits where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            multiplier = unit.bytes
            break
        }
        guard let count = wholeNumber(number) else { throw failure }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw ToolError("\"\(text)\" is too large a \(what).") }
        return bytes
    }

    /// A size limit: bytes (more than zero), or nil for `unlimited` (or `none`).
    static func byteLimit(_ text: String, for what: String) throws(ToolError) -> Int64? {
        if unlimitedSpellings.contains(text) { return nil }
        let bytes: Int64
        do {
            bytes = try byteCount(text, for: what)
        } catch {
            throw ToolError(error.message.replacingSuffix(".", with: ", or unlimited."))
        }
        guard bytes > 0 else { throw ToolError("The \(what) must be more than 0 bytes, not \(text); write unlimited for no limit.") }
        return bytes
    }

    // MARK: Times

    /// Milliseconds since the Unix epoch from either all digits (`1764410400000`) or ISO 8601:
    /// `2026-11-29`, `2026-11-29T10:00Z`, `2026-11-29T10:00:00Z`, `2026-11-29T10:00:00.250+01:00`.
    /// A time of day needs a zone (`Z` or an offset): a time without one means something
    /// different on every machine.
    static func timeMilliseconds(_ text: String) throws(ToolError) -> Int64 {
        guard let milliseconds = ISO8601.timeMilliseconds(text) else { throw ToolError(ISO8601.invalidTimeMessage(text)) }
        return milliseconds
    }

    // MARK: Headers

    /// `K=V` → a header; the value may itself contain `=`, and may be empty.
    static func header(_ text: String) throws(ToolError) -> RecordHeader {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ToolError("\"\(text)\" is not a header: use KEY=VALUE, like --header event-type=order-placed.")
        }
        return RecordHeader(key: String(text[..<equals]), value: String(text[text.index(after: equals)...]))
    }

    /// A non-negative decimal number with no sign, spaces or separators, or nil.
    static func wholeNumber(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int64(text)
    }
}

extension String {
    /// The string with `suffix` replaced by `replacement`, or unchanged when it does not end so.
    fileprivate func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}
