/// Number formats for people.
enum Format {
    /// `1536` → `1.5 KiB`; exact below 1 KiB.
    static func bytes(_ count: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        guard count >= 1024 else { return "\(count) B" }
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\(fixed(value, digits: 1)) \(units[unit])"
    }

    /// A rate per second, with thousands grouped: `1,234,567`.
    static func rate(_ count: Double, seconds: Double) -> String {
        guard seconds > 0 else { return "-" }
        return grouped(Int64((count / seconds).rounded()))
    }

    /// Megabytes (10^6 bytes) per second, the unit throughput figures are usually quoted in.
    static func megabytesPerSecond(_ bytes: Int64, seconds: Double) -> String {
        guard seconds > 0 else { return "-" }
        return fixed(Double(bytes) / 1e6 / seconds, digits: 1)
    }

    static func seconds(_ value: Double) -> String {
        fixed(value, digits: value < 10 ? 3 : 1) + " s"
    }

    /// `1234567` → `1,234,567`.
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }

    /// `value` with exactly `digits` decimals, without Foundation's formatters.
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        var text = (value < 0 && scaled != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let fraction = String(scaled % Int64(scale))
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return text
    }

    /// A duration in milliseconds in the largest unit that divides it: `604800000` → `7d`.
    static func duration(milliseconds: Int64) -> String {
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where milliseconds != 0 && milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }
}

extension Format {
    /// `1 batch`, `2,000 batches`: a count with its noun, grouped, singular for one.
    static func count(_ value: Int64, _ singular: String, _ plural: String? = nil) -> String {
        "\(grouped(value)) \(value == 1 ? singular : plural ?? singular + "s")"
    }

    /// An age or a lag for people, truncated to its two largest units: `850ms`, `12s`,
    /// `3m 05s`, `2h 03m`, `4d 02h`.
    static func age(milliseconds: Int64) -> String {
        guard milliseconds >= 1000 else { return "\(max(milliseconds, 0))ms" }
        let seconds = milliseconds / 1000
        let twoDigits = { (value: Int64) in value < 10 ? "0\(value)" : "\(value)" }
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m \(twoDigits(seconds % 60))s" }
        if seconds < 86_400 { return "\(seconds / 3600)h \(twoDigits(seconds / 60 % 60))m" }
        return "\(seconds / 86_400)d \(twoDigits(seconds / 3600 % 24))h"
    }

    /// A wait for people, to the second: `45s`, `2m 05s`, `1h 02m`.
    static func clock(seconds: Double) -> String {
        guard seconds.isFinite, seconds < 1e9 else { return "?" }
        let whole = Int64(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        let twoDigits = { (value: Int64) in value < 10 ? "0\(value)" : "\(value)" }
        if whole < 3600 { return "\(whole / 60)m \(twoDigits(whole % 60))s" }
        return "\(whole / 3600)h \(twoDigits(whole / 60 % 60))m"
    }
}
