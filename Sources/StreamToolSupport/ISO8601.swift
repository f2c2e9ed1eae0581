/// ISO 8601 date-times in UTC, by hand: the calendar arithmetic is short, exact and fast, and
/// replay formats a timestamp per record.
public enum ISO8601 {
    /// `2026-11-29T10:00:00.000Z`.
    public static func format(milliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(milliseconds: milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 24-byte form of `milliseconds` (years 0...9999; others are clamped).
    public static func append(milliseconds: Int64, to bytes: inout [UInt8]) {
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
    public static func parse(_ text: String) -> Int64? {
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

    /// Milliseconds since the Unix epoch from either all digits (`1764410400000`) or an ISO 8601
    /// time that ``parse(_:)`` accepts; nil when it is neither. `stream-tool`'s time options and
    /// the `timestamp` member of a JSON line both read times this way.
    public static func timeMilliseconds(_ text: String) -> Int64? {
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // All digits but too large for an Int64 is no time at all.
            return Int64(text)
        }
        return parse(text)
    }

    /// What to say about a time ``timeMilliseconds(_:)`` does not accept.
    public static func invalidTimeMessage(_ text: String) -> String {
        "\"\(text)\" is not a valid time: use ISO 8601 with a zone, like 2026-11-29T10:00:00Z, or milliseconds since the epoch."
    }

    // Howard Hinnant's days-from-civil and civil-from-days algorithms (proleptic Gregorian).
    public static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400).quotient
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
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
