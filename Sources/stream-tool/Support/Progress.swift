#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress display on stderr, redrawn at most ten times a second, and only when
/// stderr is a terminal (CLI.md: quiet when it is not).
final class ProgressLine {
    private let isEnabled: Bool
    private var lastDrawNanoseconds: UInt64 = 0
    private var isShowing = false

    init(enabled: Bool = StandardError.isTerminal) {
        isEnabled = enabled
    }

    /// For commands that stream lines to stdout (replay, dump, produce --print-offsets): shown
    /// when stderr is a terminal and stdout is not (output going to a file or a pipe).
    static func besideStreamedOutput() -> ProgressLine {
        ProgressLine(enabled: StandardError.isTerminal && !StandardOutput.isTerminal)
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

/// The words of a progress line: how much is done, of how much, how fast, and when it will
/// end: `1,234,567 of 3,000,000 records (41%), 812,345 records/s, ETA 2s`.
enum ProgressText {
    /// Counts of things (`records`, `events`).
    static func count(_ done: Int64, of total: Int64?, unit: String, seconds: Double) -> String {
        var text = Format.grouped(done)
        if let total { text += " of \(Format.grouped(total))" }
        text += " \(unit)" + percent(done, of: total)
        text += ", \(Format.rate(Double(done), seconds: seconds)) \(unit)/s" + eta(done, of: total, seconds: seconds)
        return text
    }

    /// Bytes: `12.0 MiB of 1.0 GiB (1%), 45.6 MB/s, ETA 21s`.
    static func bytes(_ done: Int64, of total: Int64?, seconds: Double) -> String {
        var text = Format.bytes(done)
        if let total { text += " of \(Format.bytes(total))" }
        text += percent(done, of: total)
        text += ", \(Format.megabytesPerSecond(done, seconds: seconds)) MB/s" + eta(done, of: total, seconds: seconds)
        return text
    }

    private static func percent(_ done: Int64, of total: Int64?) -> String {
        guard let total, total > 0 else { return "" }
        return " (\(Int(min(100, Double(done) * 100 / Double(total))))%)"
    }

    /// `, ETA 2m 05s`, once there is a rate to extrapolate from.
    static func eta(_ done: Int64, of total: Int64?, seconds: Double) -> String {
        guard let total, done > 0, seconds > 0.2, total > done else { return "" }
        let remaining = Double(total - done) / (Double(done) / seconds)
        return ", ETA \(Format.clock(seconds: remaining))"
    }
}
