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
///
/// The buffer is raw memory rather than an `[UInt8]`: replay appends a few dozen small pieces per
/// record, and an array's uniqueness and exclusivity checks on each of them cost more than the
/// copying.
final class BufferedOutput {
    // Only ever touched by the one thread that owns the writer; dynamic exclusivity checks on
    // these cost more than the appends themselves (SWIFT-NOTES, "Performance traps").
    @exclusivity(unchecked) private var bytes: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var count = 0
    private let flushThresholdBytes: Int

    init(capacityBytes: Int = 256 * 1024) {
        capacity = max(capacityBytes, 64)
        bytes = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        flushThresholdBytes = capacity - capacity / 4
    }

    deinit {
        bytes.deallocate()
    }

    /// Makes room for `extra` more bytes; the buffer grows only for pieces larger than the
    /// room left (a big value), since callers flush once it is mostly full.
    @inline(__always)
    private func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        grown.copyMemory(from: bytes, byteCount: count)
        bytes.deallocate()
        bytes = grown
        capacity = newCapacity
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        bytes.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    func append(_ piece: UnsafeRawBufferPointer) {
        guard let source = piece.baseAddress, piece.count > 0 else { return }
        reserve(piece.count)
        (bytes + count).copyMemory(from: source, byteCount: piece.count)
        count += piece.count
    }

    func append(_ piece: [UInt8]) {
        piece.withUnsafeBytes { append($0) }
    }

    func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `value` in decimal without going through a `String`.
    func appendDecimal(_ value: Int64) {
        if value < 0 {
            append(UInt8(ascii: "-"))
        }
        appendDecimal(value.magnitude)
    }

    func appendDecimal(_ value: UInt64) {
        reserve(20)
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        rest = value
        for index in stride(from: count + digits - 1, through: count, by: -1) {
            bytes.storeBytes(of: UInt8(ascii: "0") + UInt8(rest % 10), toByteOffset: index, as: UInt8.self)
            rest /= 10
        }
        count += digits
    }

    /// Appends `text` padded with spaces on the left to `width` columns.
    func appendRightAligned(_ text: String, width: Int) {
        appendSpaces(width - text.utf8.count)
        append(text)
    }

    /// Appends `value` in decimal, padded with spaces on the left to `width` columns.
    func appendRightAligned(_ value: Int64, width: Int) {
        var digits = value < 0 ? 2 : 1
        var rest = value.magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        appendSpaces(width - digits)
        appendDecimal(value)
    }

    func appendSpaces(_ spaces: Int) {
        guard spaces > 0 else { return }
        reserve(spaces)
        (bytes + count).initializeMemory(as: UInt8.self, repeating: UInt8(ascii: " "), count: spaces)
        count += spaces
    }

    /// The bytes so far as text, emptying the buffer (for building strings, not for stdout).
    func takeString() -> String {
        defer { count = 0 }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// Writes out the buffer once it is mostly full; call after each record or batch.
    @inline(__always)
    func flushIfFull() throws {
        if count >= flushThresholdBytes { try flush() }
    }

    func flush() throws {
        guard count > 0 else { return }
        let failure = writeAll(fd: 1, bytes: UnsafeRawBufferPointer(start: bytes, count: count))
        count = 0
        if failure == EPIPE { throw OutputClosed() }
        if failure != 0 {
            throw ToolError("Writing to standard output failed: \(String(cString: strerror(failure))).")
        }
    }
}

/// Whoever reads stdout has stopped reading (`| head`): not a failure, just the end.
struct OutputClosed: Error {}

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
