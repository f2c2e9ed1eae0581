#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the store reads the time: wall-clock milliseconds since the Unix epoch.
///
/// Injected through `Store.Options` so tests of time-based behaviour (segment rolling,
/// timestamp limits, retention) never sleep.
public protocol StoreClock: Sendable {
    /// The current time in milliseconds since the Unix epoch.
    func nowMilliseconds() -> Int64
}

/// The system's real-time clock.
public struct SystemClock: StoreClock {
    /// The system clock.
    public init() {}

    /// `CLOCK_REALTIME` in milliseconds since the Unix epoch.
    public func nowMilliseconds() -> Int64 { SystemClock.milliseconds() }

    static func milliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// Monotonic nanoseconds, for measuring durations.
    package static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
