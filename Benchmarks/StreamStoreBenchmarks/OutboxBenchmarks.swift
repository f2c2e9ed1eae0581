import Benchmark
import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox

extension Metric {
    /// One sample per event: from its transaction's commit to a following replay returning it.
    static var commitToVisibleMicros: BenchmarkMetric { .custom("commit to visible (μs)", polarity: .prefersSmaller, useScalingFactor: false) }
}

/// The transactional outbox (StreamStoreOutbox): what the relay publishes per second in passes
/// of 1, 100 and 1,000 rows, against plain appends of the same records in batches of the same
/// size (`appendWithIDs100B/batch:N`), both with flush `.everyAppend` and a de-duplication
/// window, as the relay requires; and how long an event takes from its commit to a reader.
/// One throughput iteration = one pass: `N` rows enqueued in one transaction (not measured),
/// then `publishPending` (read, append, fsync, delete), or one append of `N` records.
func registerOutboxBenchmarks(scale: Scale, configuration: (Int, [BenchmarkMetric]) -> Benchmark.Configuration) {
    let rateMetrics = [Metric.recordsPerSecond, Metric.megabytesPerSecond]
    let value = String(repeating: "v", count: 100)
    for batchRows in [1, 100, 1000] {
        let iterations = max(2, scale.outboxRows / batchRows)
        let relayHolder = Holder<OutboxStore>()
        Benchmark(
            "outboxRelay100B/batch:\(batchRows)", configuration: configuration(iterations, rateMetrics),
            closure: { (benchmark: Benchmark) async throws in
                let outbox = relayHolder.value!
                try await outbox.database.write { db in
                    for number in 0..<batchRows { try Outbox.enqueue(topic: "bench", key: "key-\(number % 64)", value: value, in: db) }
                }
                let start = ContinuousClock.now
                let published = try await outbox.relay.publishPending()
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                guard published == batchRows else {
                    benchmark.error("the relay published \(published) of \(batchRows) rows")
                    return
                }
                benchmark.recordRates(records: batchRows, valueBytes: 100, elapsed: elapsed)
            },
            setup: { relayHolder.value = try OutboxStore(label: "outbox-relay-\(batchRows)", batchRows: batchRows) },
            teardown: {
                relayHolder.value?.closeAndRemove()
                relayHolder.value = nil
            })

        let appendHolder = Holder<OpenStore>()
        Benchmark(
            "appendWithIDs100B/batch:\(batchRows)", configuration: configuration(iterations, rateMetrics),
            closure: { (benchmark: Benchmark) async throws in
                let topic = appendHolder.value!.topic
                let start = ContinuousClock.now
                var batch = RecordBatch()
                for number in 0..<batchRows {
                    try batch.append(
                        key: Array("key-\(number % 64)".utf8), value: Array(value.utf8),
                        headers: [RecordHeader(key: "message-id", value: UUID().uuidString.lowercased())])
                }
                _ = try await topic.append(batch, partition: 0)
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                benchmark.recordRates(records: batchRows, valueBytes: 100, elapsed: elapsed)
            },
            setup: {
                appendHolder.value = try OpenStore(
                    label: "append-ids-\(batchRows)", config: TopicConfig(flush: .everyAppend, dedupeWindowMilliseconds: 3_600_000))
            },
            teardown: {
                appendHolder.value?.closeAndRemove()
                appendHolder.value = nil
            })
    }

    // One iteration = one event committed in its own transaction while the relay runs, and the
    // wait until a replay following the topic returns it.
    struct LatencyState {
        var outbox: OutboxStore
        var relaying: Task<Void, Never>
        var records: RecordReplay.AsyncIterator
        var next = 0
    }
    let latencyHolder = Holder<LatencyState>()
    Benchmark(
        "outboxCommitToVisible", configuration: configuration(scale.outboxLatencyEvents, [Metric.commitToVisibleMicros]),
        closure: { (benchmark: Benchmark) async throws in
            var state = latencyHolder.value!
            defer { latencyHolder.value = state }
            let number = state.next
            state.next += 1
            try await state.outbox.database.write { db in try Outbox.enqueue(topic: "bench", key: "key", value: "\(number)", in: db) }
            let committed = ContinuousClock.now
            let record = try await state.records.next()
            let elapsed = committed.duration(to: .now)
            benchmark.stopMeasurement()
            guard record?.valueString == "\(number)" else {
                benchmark.error("event \(number) came out as \(record?.valueString ?? "nothing")")
                return
            }
            benchmark.measurement(Metric.commitToVisibleMicros, Int(elapsed.nanoseconds / 1000))
        },
        setup: {
            let outbox = try OutboxStore(label: "outbox-latency", batchRows: 1000)
            let relay = outbox.relay
            latencyHolder.value = LatencyState(
                outbox: outbox, relaying: Task { await relay.run() },
                records: outbox.topic.replay(partition: 0, options: ReplayOptions(from: .end, follow: true)).makeAsyncIterator())
        },
        teardown: {
            latencyHolder.value?.relaying.cancel()
            latencyHolder.value?.outbox.closeAndRemove()
            latencyHolder.value = nil
        })
}

/// A store with topic "bench" (flush `.everyAppend`, a de-duplication window), a SQLite database
/// (WAL, synchronous NORMAL) with the outbox tables, and a relay between them.
final class OutboxStore {
    let log: OpenStore
    let database: DatabasePool
    let relay: OutboxRelay
    var topic: Topic { log.topic }

    init(label: String, batchRows: Int) throws {
        log = try OpenStore(label: label, config: TopicConfig(flush: .everyAppend, dedupeWindowMilliseconds: 3_600_000))
        try FileManager.default.createDirectory(atPath: log.folder + "-db", withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        database = try DatabasePool(path: log.folder + "-db/app.sqlite", configuration: configuration)
        try OutboxSchema.migrate(database)
        relay = try OutboxRelay(database: database, store: log.store, options: OutboxRelay.Options(batchRows: batchRows))
    }

    func closeAndRemove() {
        log.closeAndRemove()
        removeFolder(log.folder + "-db")
    }
}
