import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// `RetryPolicy`: exponential waits up to a cap, jitter that only shortens them, validation.
@Suite struct RetryPolicyTests {
    @Test func waitsGrowByTheMultiplierUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 8, initialBackoffMilliseconds: 100, backoffMultiplier: 2, maxBackoffMilliseconds: 1_000, jitterFraction: 0)
        #expect((1...7).map { policy.backoffMilliseconds(afterAttempt: $0) } == [100, 200, 400, 800, 1_000, 1_000, 1_000])
        #expect((1...7).map { policy.delayMilliseconds(afterAttempt: $0) } == [100, 200, 400, 800, 1_000, 1_000, 1_000], "no jitter: exact")
        let flat = RetryPolicy(initialBackoffMilliseconds: 50, backoffMultiplier: 1, jitterFraction: 0)
        #expect((1...3).map { flat.delayMilliseconds(afterAttempt: $0) } == [50, 50, 50])
        let huge = RetryPolicy(initialBackoffMilliseconds: 1, backoffMultiplier: 1e300, maxBackoffMilliseconds: .max, jitterFraction: 0)
        #expect(huge.backoffMilliseconds(afterAttempt: 1_000) == .max, "a wait past Int64 is the cap, not an overflow")
        #expect(huge.delayMilliseconds(afterAttempt: 2) == .max)
        let capped = RetryPolicy(initialBackoffMilliseconds: 1, backoffMultiplier: 1e300, maxBackoffMilliseconds: 5_000, jitterFraction: 0)
        #expect((1...4).map { capped.backoffMilliseconds(afterAttempt: $0) } == [1, 5_000, 5_000, 5_000], "an infinite product is the cap")
    }

    @Test func jitterShortensAWaitByAtMostItsFraction() {
        let policy = RetryPolicy(initialBackoffMilliseconds: 1_000, maxBackoffMilliseconds: 1_000, jitterFraction: 0.3)
        var random = SplitMix64(seed: TestSeed.value)
        let waits = (0..<2_000).map { _ in policy.delayMilliseconds(afterAttempt: 1, using: &random) }
        #expect(waits.allSatisfy { (700...1_000).contains($0) }, "\(TestSeed.replay)")
        #expect(waits.min()! < 720 && waits.max()! > 980, "the draws spread over the whole range (\(TestSeed.replay))")
        let full = RetryPolicy(initialBackoffMilliseconds: 400, jitterFraction: 1)
        #expect((0..<500).map { _ in full.delayMilliseconds(afterAttempt: 1, using: &random) }.allSatisfy { (0...400).contains($0) })
    }

    @Test func settingsOutOfRangeAreInvalidConfig() {
        let invalid = [
            RetryPolicy(maxAttempts: 0), RetryPolicy(initialBackoffMilliseconds: -1), RetryPolicy(backoffMultiplier: 0.5),
            RetryPolicy(backoffMultiplier: .nan), RetryPolicy(initialBackoffMilliseconds: 500, maxBackoffMilliseconds: 100),
            RetryPolicy(jitterFraction: -0.1), RetryPolicy(jitterFraction: 1.01),
        ]
        for policy in invalid {
            let error = #expect(throws: StreamStoreError.self, "\(policy)") { try policy.validate() }
            #expect(error?.code == .invalidConfig)
        }
        #expect(throws: Never.self) { try RetryPolicy().validate() }
        #expect(throws: Never.self) { try RetryPolicy(maxAttempts: 1, initialBackoffMilliseconds: 0, maxBackoffMilliseconds: 0, jitterFraction: 1).validate() }
    }
}
