import StreamStoreTestSupport

// The seeded generator and the run's seed live in StreamStoreTestSupport, shared with the
// messaging tests; these names keep this target's files as they were.
typealias SplitMix64 = StreamStoreTestSupport.SplitMix64
typealias TestSeed = StreamStoreTestSupport.TestSeed
