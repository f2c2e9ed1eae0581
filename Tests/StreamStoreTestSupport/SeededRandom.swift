import Foundation

/// SplitMix64: a tiny, fast generator whose whole state is one seed, so a failing random test
/// can be replayed exactly from the seed it prints.
package struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A value in `0...upperBound`, cheaper in debug builds than `Int.random(in:using:)`.
    package mutating func upTo(_ upperBound: Int) -> Int {
        Int(truncatingIfNeeded: next() % UInt64(upperBound + 1))
    }

    /// True with probability 1 in `n`.
    package mutating func oneIn(_ n: Int) -> Bool { upTo(n - 1) == 0 }
}

/// The seed of this test run's random tests: `STREAMSTORE_SEED` (decimal or 0x-hex) when set,
/// so a failure can be replayed, else a fresh one. Failure messages include it.
package enum TestSeed {
    package static let value: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["STREAMSTORE_SEED"] {
            let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            if let parsed { return parsed }
        }
        return UInt64.random(in: 0...UInt64.max)
    }()

    /// What to put in a failure message to replay the run.
    package static var replay: String { "replay with STREAMSTORE_SEED=\(value)" }
}
