import Testing

@testable import StreamStoreKafka

/// A flood of refused connections writes one log line at first, then at most one a second,
/// each counting the refusals since the last.
@Suite struct RefusalLogThrottleTests {
    @Test func firstRefusalIsLoggedThenOneLineASecondWithTheCount() {
        var throttle = RefusalLogThrottle()
        let start = ContinuousClock.now
        #expect(throttle.refused(now: start) == 1)
        for step in 1...99 { #expect(throttle.refused(now: start.advanced(by: .milliseconds(step * 5))) == nil) }
        // 99 refused since the line, and this one: 100 in the next line.
        #expect(throttle.refused(now: start.advanced(by: .milliseconds(1000))) == 100)
        #expect(throttle.refused(now: start.advanced(by: .milliseconds(1500))) == nil)
        #expect(throttle.refused(now: start.advanced(by: .milliseconds(2500))) == 2)
    }
}
