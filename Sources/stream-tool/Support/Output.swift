#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lines for people on stderr: errors, notes, summaries. Unbuffered, one `write` per line, so
/// they interleave sensibly with the store's log messages.
enum StandardError {
    static func line(_ text: String) {
        write(text + "\n")
    }

    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = writeAll(fd: 2, bytes: UnsafeRawBufferPointer(bytes)) }
    }

    /// True when stderr is a terminal: only then do long commands show progress.
    static let isTerminal: Bool = isatty(2) != 0
}

/// Writes all of `bytes` to `fd`, retrying short writes; returns 0 or the errno that stopped it.
@discardableResult
func writeAll(fd: Int32, bytes: UnsafeRawBufferPointer) -> Int32 {
    guard var cursor = bytes.baseAddress else { return 0 }
    var remaining = bytes.count
    while remaining > 0 {
        let written = write(fd, cursor, remaining)
        if written < 0 {
            if errno == EINTR { continue }
            return errno
        }
        cursor += written
        remaining -= written
    }
    return 0
}

/// A buffered writer to stdout for output that can run to millions of lines (replay,
/// `--print-offsets`): bytes collect in one buffer and go out in large writes.
final class BufferedOutput {
    private var buffer: [UInt8] = []
    private let flushThresholdBytes: Int

    init(capacityBytes: Int = 256 * 1024) {
        flushThresholdBytes = capacityBytes - capacityBytes / 4
        buffer.reserveCapacity(capacityBytes)
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        buffer.append(byte)
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    func append(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
    }

    func append(_ text: String) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }

    /// Appends `value` in decimal without going through a `String`.
    func appendDecimal(_ value: Int64) {
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
            appendDecimal(UInt64(value.magnitude))
        } else {
            appendDecimal(UInt64(value))
        }
    }

    func appendDecimal(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes of scratch
        withUnsafeMutableBytes(of: &digits) { scratch in
            var index = scratch.count
            var rest = value
            repeat {
                index -= 1
                scratch[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[index...]))
        }
    }

    /// Appends `text` padded with spaces on the left to `width` columns.
    func appendRightAligned(_ text: String, width: Int) {
        let padding = width - text.utf8.count
        if padding > 0 { buffer.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding)) }
        append(text)
    }

    func appendSpaces(_ count: Int) {
        if count > 0 { buffer.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count)) }
    }

    /// The bytes so far as text, emptying the buffer (for building strings, not for stdout).
    func takeString() -> String {
        defer { buffer.removeAll(keepingCapacity: true) }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Writes out the buffer once it is mostly full; call after each record.
    @inline(__always)
    func flushIfFull() throws {
        if buffer.count >= flushThresholdBytes { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        let failure = buffer.withUnsafeBytes { writeAll(fd: 1, bytes: $0) }
        buffer.removeAll(keepingCapacity: true)
        if failure != 0 {
            throw ToolError("Writing to standard output failed: \(String(cString: strerror(failure))).")
        }
    }
}

/// A one-line progress display on stderr, redrawn at most ten times a second, and only when
/// stderr is a terminal (CLI.md: quiet when it is not).
final class ProgressLine {
    private let isEnabled: Bool
    private var lastDrawNanoseconds: UInt64 = 0
    private var isShowing = false

    init(enabled: Bool = StandardError.isTerminal) {
        isEnabled = enabled
    }

    /// Redraws the line with `text()` if a tenth of a second has passed since the last draw.
    /// The text is built only when it is drawn.
    func update(_ text: () -> String) {
        guard isEnabled else { return }
        let now = Clocks.monotonicNanoseconds()
        guard now - lastDrawNanoseconds >= 100_000_000 else { return }
        lastDrawNanoseconds = now
        isShowing = true
        StandardError.write("\r\u{1B}[K" + text())
    }

    /// Clears the line so the next output starts on a clean one.
    func finish() {
        guard isShowing else { return }
        isShowing = false
        StandardError.write("\r\u{1B}[K")
    }
}

enum Clocks {
    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// Measures a stretch of work and words its rate.
struct Stopwatch {
    private let startNanoseconds = Clocks.monotonicNanoseconds()

    var elapsedSeconds: Double {
        Double(Clocks.monotonicNanoseconds() - startNanoseconds) / 1e9
    }
}

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

/// A text table whose columns line up: numbers right-aligned, text left-aligned.
struct TextTable {
    enum Alignment { case left, right }

    private let titles: [String]
    private let alignments: [Alignment]
    private var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) {
        titles = columns.map(\.0)
        alignments = columns.map(\.1)
    }

    mutating func add(_ row: [String]) {
        precondition(row.count == titles.count, "a row has one cell per column")
        rows.append(row)
    }

    func render(indent: String = "") -> String {
        let all = [titles] + rows
        let widths = titles.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in all {
            var line = indent
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                let isLast = column == row.count - 1
                switch alignments[column] {
                case .left: line += isLast ? cell : cell + padding
                case .right: line += padding + cell
                }
                if !isLast { line += "  " }
            }
            text += line + "\n"
        }
        return text
    }
}
