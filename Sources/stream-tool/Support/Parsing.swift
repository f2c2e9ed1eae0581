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

    // MARK: Times

    /// Milliseconds since the Unix epoch from either all digits (`1764410400000`) or ISO 8601:
    /// `2026-11-29`, `2026-11-29T10:00Z`, `2026-11-29T10:00:00Z`, `2026-11-29T10:00:00.250+01:00`.
    /// A time of day needs a zone (`Z` or an offset): a time without one means something
    /// different on every machine.
    static func timeMilliseconds(_ text: String) throws(ToolError) -> Int64 {
        if let milliseconds = wholeNumber(Substring(text)) { return milliseconds }
        guard let milliseconds = ISO8601.parse(text) else {
            throw ToolError(
                "\"\(text)\" is not a valid time: use ISO 8601 with a zone, like 2026-11-29T10:00:00Z, or milliseconds since the epoch.")
        }
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

/// ISO 8601 date-times in UTC, by hand: the calendar arithmetic is short, exact and fast, and
/// replay formats a timestamp per record.
enum ISO8601 {
    /// `2026-11-29T10:00:00.000Z`.
    static func format(milliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(milliseconds: milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 24-byte form of `milliseconds` (years 0...9999; others are clamped).
    static func append(milliseconds: Int64, to bytes: inout [UInt8]) {
        let clamped = min(max(milliseconds, -62_167_219_200_000), 253_402_300_799_999)
        let (daysSinceEpoch, millisecondOfDay) = floorDivide(clamped, 86_400_000)
        let (year, month, day) = civil(fromDays: daysSinceEpoch)
        func two(_ value: Int64) {
            bytes.append(UInt8(ascii: "0") + UInt8(value / 10))
            bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
        }
        two(year / 100)
        two(year % 100)
        bytes.append(UInt8(ascii: "-"))
        two(month)
        bytes.append(UInt8(ascii: "-"))
        two(day)
        bytes.append(UInt8(ascii: "T"))
        two(millisecondOfDay / 3_600_000)
        bytes.append(UInt8(ascii: ":"))
        two(millisecondOfDay / 60_000 % 60)
        bytes.append(UInt8(ascii: ":"))
        two(millisecondOfDay / 1000 % 60)
        bytes.append(UInt8(ascii: "."))
        let millisecond = millisecondOfDay % 1000
        bytes.append(UInt8(ascii: "0") + UInt8(millisecond / 100))
        two(millisecond % 100)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Parses `YYYY-MM-DD[THH:MM[:SS[.fff…]](Z|±HH:MM|±HHMM)]`; nil when it is anything else.
    static func parse(_ text: String) -> Int64? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.digits(4), scanner.skip("-"),
            let month = scanner.digits(2), scanner.skip("-"),
            let day = scanner.digits(2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        let days = days(fromYear: year, month: month, day: day)
        if scanner.isAtEnd { return days * 86_400_000 }

        guard scanner.skip("T") || scanner.skip("t") || scanner.skip(" "),
            let hour = scanner.digits(2), scanner.skip(":"), let minute = scanner.digits(2),
            hour < 24, minute < 60
        else { return nil }
        var second: Int64 = 0
        var millisecond: Int64 = 0
        if scanner.skip(":") {
            guard let value = scanner.digits(2), value < 60 else { return nil }
            second = value
            if scanner.skip(".") || scanner.skip(",") {
                var scale: Int64 = 100
                var sawDigit = false
                while let digit = scanner.digits(1) {
                    millisecond += digit * scale
                    scale /= 10
                    sawDigit = true
                }
                guard sawDigit else { return nil }
            }
        }
        var offsetMinutes: Int64 = 0
        if let sign = scanner.offsetSign() {
            guard let hours = scanner.digits(2) else { return nil }
            _ = scanner.skip(":")
            guard let minutes = scanner.digits(2), hours < 24, minutes < 60 else { return nil }
            offsetMinutes = sign * (hours * 60 + minutes)
        } else if !(scanner.skip("Z") || scanner.skip("z")) {
            return nil
        }
        guard scanner.isAtEnd else { return nil }
        let local = days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millisecond
        return local - offsetMinutes * 60_000
    }

    // Howard Hinnant's days-from-civil and civil-from-days algorithms (proleptic Gregorian).
    static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400).quotient
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097).quotient
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        /// +1 or -1 for a zone offset's sign, consumed; nil when there is none.
        mutating func offsetSign() -> Int64? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }

        mutating func digits(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + count] {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
    }
}
