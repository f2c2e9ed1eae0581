import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Budgets at the edges of `Int`: `.max` (found by the fuzzers: the read size overflowed) and
/// zero or negative (one batch, as documented).
@Suite(.timeLimit(.minutes(5))) struct ReadBudgetTests {
    @Test(arguments: [Int.max, Int.max - 1, 0, -1, Int.min])
    func anyBudgetReadsAtLeastOneBatchAndNeverTraps(maxBytes: Int) async throws {
        let fixture = try StoreFixture()
        for compression in [Compression.none, .zstd(level: 1)] {
            let topic = try fixture.topic("t-\(compression.configValue.replacingOccurrences(of: ":", with: "-"))", config: TopicConfig(flush: .never, compression: compression))
            try await fixture.append(topic, count: 300, batchSize: 30)
            let records = try topic.read(partition: 0, from: 0, maxBytes: maxBytes)
            #expect(records.count == (maxBytes > 1 << 20 ? 300 : 30))
            #expect(records.first?.valueString == "value-0")
            var iterator = topic.replay(options: ReplayOptions(maxBytesPerRead: maxBytes)).makeAsyncIterator()
            var count = 0
            while try await iterator.next() != nil { count += 1 }
            #expect(count == 300)
        }
    }
}
