/// When a connection refused over the limit is worth a log line: the first one, then at most
/// one line a second, saying how many were refused since the last line. A flood of connections
/// thus shows in the log without filling it.
struct RefusalLogThrottle: Sendable {
    static let interval = Duration.seconds(1)
    private var lastLine: ContinuousClock.Instant?
    private var unlogged = 0

    /// Counts one refusal at `now`; returns how many refusals the line written now should
    /// report, or nil when no line is due.
    mutating func refused(now: ContinuousClock.Instant) -> Int? {
        unlogged += 1
        if let lastLine, now < lastLine.advanced(by: Self.interval) { return nil }
        lastLine = now
        defer { unlogged = 0 }
        return unlogged
    }
}
