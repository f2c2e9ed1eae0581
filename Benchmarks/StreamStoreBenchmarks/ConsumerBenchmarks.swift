import Benchmark
import Foundation
import StreamStore

extension Metric {
    /// Append returned → a tailing reader holds the record, one sample per iteration.
    static var wakeupLatencyMicros: BenchmarkMetric { .custom("wake-up latency (μs)", polarity: .prefersSmaller, useScalingFactor: false) }
    static var commitsPerSecond: BenchmarkMetric { .custom("commits/s", polarity: .prefersLarger, useScalingFactor: false) }
}

/// Where a tailing reader hands each record's arrival time to the benchmark.
final class Arrivals: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: CheckedContinuation<ContinuousClock.Instant, Never>?
    private var arrived: ContinuousClock.Instant?

    func deliver(_ instant: ContinuousClock.Instant) {
        let continuation: CheckedContinuation<ContinuousClock.Instant, Never>? = lock.withLock {
            if let waiting {
                self.waiting = nil
                return waiting
            }
            arrived = instant
            return nil
        }
        continuation?.resume(returning: instant)
    }

    func next() async -> ContinuousClock.Instant {
        await withCheckedContinuation { continuation in
            let ready: ContinuousClock.Instant? = lock.withLock {
                if let arrived {
                    self.arrived = nil
                    return arrived
                }
                waiting = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// The workloads of the consumer side (issue #6): replay through the `AsyncSequence` API, live
/// tailing latency, and offset commits.
func registerConsumerBenchmarks(scale: Scale, configuration: (Int, [BenchmarkMetric]) -> Benchmark.Configuration) {
    let rateMetrics = [Metric.recordsPerSecond, Metric.megabytesPerSecond]

    // Replay through `Topic.replay` (a StoredRecord each) and `Topic.replayBatches` (no object
    // per record): one iteration = the whole prefilled log of 100-byte values, reusing buffers.
    for (name, batchLevel) in [("replayAsyncRecords100B", false), ("replayAsyncBatches100B", true)] {
        let holder = Holder<OpenStore>()
        let records = scale.replayRecords
        Benchmark(
            name, configuration: configuration(scale.replayPasses, rateMetrics + [.peakMemoryResident]),
            closure: { (benchmark: Benchmark) async throws in
                let topic = holder.value!.topic
                var seen = 0
                var valueBytes = 0
                let start = ContinuousClock.now
                if batchLevel {
                    for try await batch in topic.replayBatches() {
                        try batch.forEachRecord { record in
                            seen += 1
                            valueBytes &+= record.value?.count ?? 0
                        }
                    }
                } else {
                    for try await record in topic.replay() {
                        seen += 1
                        valueBytes &+= record.value?.count ?? 0
                    }
                }
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                guard seen == records, valueBytes == records * 100 else {
                    benchmark.error("replay saw \(seen) records, expected \(records)")
                    return
                }
                benchmark.recordRates(records: records, valueBytes: 100, elapsed: elapsed)
            },
            setup: {
                let log = try OpenStore(label: name, config: TopicConfig(flush: .never))
                try await prefill(log.topic, records: records, valueBytes: 100)
                holder.value = log
            },
            teardown: {
                holder.value?.closeAndRemove()
                holder.value = nil
            })
    }

    // Compressed replay: JSON order events (about 290 bytes) with each codec, record level.
    for compression in [Compression.none, .zstd(level: 1), .zstd(level: 3)] {
        let holder = Holder<OpenStore>()
        let records = scale.replayRecords / 2
        let name = "replayJSON/codec:\(compression.configValue)"
        Benchmark(
            name, configuration: configuration(scale.replayPasses, rateMetrics),
            closure: { (benchmark: Benchmark) async throws in
                let topic = holder.value!.topic
                var seen = 0
                var valueBytes = 0
                let start = ContinuousClock.now
                for try await record in topic.replay() {
                    seen += 1
                    valueBytes &+= record.value?.count ?? 0
                }
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                guard seen == records else {
                    benchmark.error("replay saw \(seen) records, expected \(records)")
                    return
                }
                let seconds = max(elapsed.nanoseconds, 1) / 1e9
                benchmark.measurement(Metric.recordsPerSecond, Int(Double(records) / seconds))
                benchmark.measurement(Metric.megabytesPerSecond, Int(Double(valueBytes) / seconds / 1e6))
            },
            setup: {
                let log = try OpenStore(label: "replayjson", config: TopicConfig(flush: .never, compression: compression))
                let events = JSONEventPool(count: 4_096)
                var batch = RecordBatch(capacityBytes: batchRecords * 400)
                var written = 0
                while written < records {
                    _ = try events.fill(&batch, records: min(batchRecords, records - written))
                    written += batch.count
                    _ = try await log.topic.append(batch, partition: 0)
                }
                holder.value = log
            },
            teardown: {
                holder.value?.closeAndRemove()
                holder.value = nil
            })
    }

    // Tailing: one iteration = append one record (flush .never) and wait until a reader that
    // follows the log end holds it. The sample is the time from before the append to arrival.
    struct TailState {
        var log: OpenStore
        var reader: Task<Void, Error>
        var arrivals: Arrivals
        var value: ValueBuffer
    }
    do {
        let holder = Holder<TailState>()
        Benchmark(
            "tailLatency", configuration: configuration(scale.tailAppends, [Metric.wakeupLatencyMicros]),
            closure: { (benchmark: Benchmark) async throws in
                let state = holder.value!
                var batch = RecordBatch()
                try batch.append(key: nil, value: state.value.raw)
                let start = ContinuousClock.now
                _ = try await state.log.topic.append(batch, partition: 0)
                let arrived = await state.arrivals.next()
                benchmark.stopMeasurement()
                benchmark.measurement(Metric.wakeupLatencyMicros, Int(start.duration(to: arrived).nanoseconds / 1e3))
            },
            setup: {
                let log = try OpenStore(label: "tail", config: TopicConfig(flush: .never))
                let arrivals = Arrivals()
                let topic = log.topic
                let reader = Task {
                    for try await _ in topic.replay(options: ReplayOptions(from: .end, follow: true)) {
                        arrivals.deliver(.now)
                    }
                }
                holder.value = TailState(log: log, reader: reader, arrivals: arrivals, value: ValueBuffer(count: 100))
                // Let the reader reach the log end and wait there.
                try await Task.sleep(for: .milliseconds(50))
            },
            teardown: {
                holder.value?.reader.cancel()
                _ = await holder.value?.reader.result
                holder.value?.log.closeAndRemove()
                holder.value = nil
            })
    }

    // Commits: one iteration = one consumer-group commit of one partition's next offset; flush
    // .never (a pwrite) and .everyAppend (pwrite + fdatasync).
    for flush in [FlushPolicy.never, .everyAppend] {
        let holder = Holder<OpenStore>()
        Benchmark(
            "commitOffsets/flush:\(flush.configValue)", configuration: configuration(scale.commits, [Metric.commitsPerSecond]),
            closure: { (benchmark: Benchmark) async throws in
                let group = try holder.value!.store.group("bench")
                let start = ContinuousClock.now
                try await group.commit(topic: "bench", offsets: [0: Int64(benchmark.currentIteration % 1_000)])
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                benchmark.measurement(Metric.commitsPerSecond, Int(1e9 / max(elapsed.nanoseconds, 1)))
            },
            setup: {
                let log = try OpenStore(label: "commits", config: TopicConfig(flush: flush))
                try await prefill(log.topic, records: 1_000, valueBytes: 100)
                holder.value = log
            },
            teardown: {
                holder.value?.closeAndRemove()
                holder.value = nil
            })
    }
}

/// Retention (issue #7): one iteration = a dry run judging every segment of a partition with
/// 1,000 sealed segments (sizes and newest timestamps, opening files through the cache as
/// needed). The deletion itself is not repeatable per iteration (the suite's setup runs once
/// per workload); the retention tests and the crash test exercise it.
func registerRetentionBenchmarks(scale: Scale, configuration: (Int, [BenchmarkMetric]) -> Benchmark.Configuration) {
    let segments = scale.retentionSegments
    for dryRun in [true] {
        let holder = Holder<OpenStore>()
        Benchmark(
            "enforceRetention/segments:\(segments)/dryRun:\(dryRun)", configuration: configuration(scale.retentionRuns, []),
            closure: { (benchmark: Benchmark) throws in
                let store = holder.value!.store
                benchmark.startMeasurement()
                let reports = try store.enforceRetention(topic: "bench", dryRun: dryRun)
                benchmark.stopMeasurement()
                guard reports[0].deleted.count >= segments - 2 else {
                    benchmark.error("retention judged \(reports[0].deleted.count) segments deletable, expected about \(segments)")
                    return
                }
            },
            setup: {
                // 1,000 segments of one 4 KiB batch each (segments roll before the next batch).
                let log = try OpenStore(label: "retention", config: TopicConfig(segmentBytes: 4096, flush: .never, retentionMilliseconds: nil, retentionBytes: 8192))
                let value = ValueBuffer(count: 100)
                var batch = RecordBatch(capacityBytes: batchCapacity(valueBytes: 100))
                for _ in 0..<segments {
                    try fill(&batch, records: 36, value: value.raw)
                    _ = try await log.topic.append(batch, partition: 0)
                }
                holder.value = log
            },
            teardown: {
                holder.value?.closeAndRemove()
                holder.value = nil
            })
    }
}
