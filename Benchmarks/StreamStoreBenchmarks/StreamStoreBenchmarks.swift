// StreamStore benchmark suite (package-benchmark). See Benchmarks/README.md for what each
// workload measures and how to run it; docs/BENCHMARKS.md, "Targets", has the targets.
//
// Every workload uses only StreamStore's public API, creates a fresh store folder in its setup
// (prefill happens there, unmeasured) and removes it in its teardown. Sizes come from
// STREAMSTORE_BENCH_SCALE (`full`, the default, or `smoke`).
import Benchmark
import Foundation
import StreamStore

// MARK: - Scale

/// How big each workload is. `full` matches the sizes in issue #3 and the targets;
/// `smoke` only checks that every workload runs end to end (seconds, not minutes).
struct Scale: Sendable {
    var name: String
    /// Iterations (one batch of 1,000 records each) of the `.never` append workloads.
    var appendBatches100B: Int
    var appendBatches1KiB: Int
    /// Iterations (one round: every producer appends one batch) per producer count.
    var fsyncRounds: [Int: Int]
    /// Records in the log the replay workloads read end to end, and how many passes.
    var replayRecords: Int
    var replayPasses: Int
    /// Records in the log the point-read workloads read from, and how many reads.
    var pointLogRecords: Int
    var pointReads: Int
    /// Partitions of the topic `openAfterCleanShutdown` opens, and how many opens.
    var openPartitions: Int
    var openIterations: Int
    /// Bytes of unflushed log `recoverUnflushedTail` recovers, and how many recoveries.
    var recoveryBytes: Int
    var recoveryIterations: Int
    /// Appends timed to a tailing reader's wake-up, and consumer-group commits.
    var tailAppends: Int
    var commits: Int
    /// Sealed segments the retention workloads judge, and how many runs.
    var retentionSegments: Int
    var retentionRuns: Int
    /// Records (flows of four events over two topics) the trace workloads search, the segment
    /// size that spreads them over many segments, and how many traces.
    var traceRecords: Int
    var traceSegmentBytes: Int
    var traceRuns: Int
    /// Rows each outbox relay workload publishes (and records its plain-append peer appends),
    /// in passes of its batch size; events the commit-to-visible workload times.
    var outboxRows: Int
    var outboxLatencyEvents: Int
    /// Upper bound on the measured time of one workload (iteration counts usually stop it first).
    var maxDuration: Duration

    static let full = Scale(
        name: "full", appendBatches100B: 5_000, appendBatches1KiB: 800, fsyncRounds: [1: 1_000, 4: 500, 16: 250],
        replayRecords: 1_000_000, replayPasses: 30, pointLogRecords: 1_000_000, pointReads: 10_000,
        openPartitions: 1_000, openIterations: 10, recoveryBytes: 1 << 30, recoveryIterations: 5, tailAppends: 5_000, commits: 5_000,
        retentionSegments: 1_000, retentionRuns: 20, traceRecords: 1_000_000, traceSegmentBytes: 4 << 20, traceRuns: 200,
        outboxRows: 100_000, outboxLatencyEvents: 2_000, maxDuration: .seconds(30))

    static let smoke = Scale(
        name: "smoke", appendBatches100B: 20, appendBatches1KiB: 10, fsyncRounds: [1: 5, 4: 5, 16: 3],
        replayRecords: 20_000, replayPasses: 3, pointLogRecords: 20_000, pointReads: 100,
        openPartitions: 20, openIterations: 3, recoveryBytes: 8 << 20, recoveryIterations: 3, tailAppends: 20, commits: 20,
        retentionSegments: 20, retentionRuns: 3, traceRecords: 20_000, traceSegmentBytes: 64 << 10, traceRuns: 5,
        outboxRows: 20, outboxLatencyEvents: 10, maxDuration: .seconds(2))

    static func fromEnvironment() -> Scale {
        switch ProcessInfo.processInfo.environment["STREAMSTORE_BENCH_SCALE"] ?? "full" {
        case "", "full": return .full
        case "smoke": return .smoke
        case let other: fatalError("STREAMSTORE_BENCH_SCALE=\(other) is not a scale: use full (the default) or smoke.")
        }
    }
}

// MARK: - Metrics

/// Custom metrics: computed per iteration from the measured region's own clock, so they mean
/// the same whatever the scaling settings of the table.
enum Metric {
    static var recordsPerSecond: BenchmarkMetric { .custom("records/s", polarity: .prefersLarger, useScalingFactor: false) }
    /// Value (payload) bytes per second, in MB (10^6 bytes).
    static var megabytesPerSecond: BenchmarkMetric { .custom("MB/s", polarity: .prefersLarger, useScalingFactor: false) }
    /// One sample per append (so `producers` samples per round).
    static var appendLatencyMicros: BenchmarkMetric { .custom("append latency (μs)", polarity: .prefersSmaller, useScalingFactor: false) }
    static var openMicros: BenchmarkMetric { .custom("Store.open (μs)", polarity: .prefersSmaller, useScalingFactor: false) }
    static var recoveryMillisPerGiB: BenchmarkMetric { .custom("recovery ms/GiB", polarity: .prefersSmaller, useScalingFactor: false) }
}

extension Duration {
    var nanoseconds: Double {
        Double(components.seconds) * 1e9 + Double(components.attoseconds) / 1e9
    }
}

extension Benchmark {
    /// Records `records` records of `valueBytes` each done in `elapsed` as records/s and MB/s.
    func recordRates(records: Int, valueBytes: Int, elapsed: Duration) {
        let seconds = max(elapsed.nanoseconds, 1) / 1e9
        measurement(Metric.recordsPerSecond, Int(Double(records) / seconds))
        measurement(Metric.megabytesPerSecond, Int(Double(records * valueBytes) / seconds / 1e6))
    }
}

// MARK: - Fixtures

/// A fresh, uniquely named store folder under STREAMSTORE_BENCH_DIR (default: the temporary
/// folder), removed by `remove()`.
func freshStoreFolder(_ label: String) -> String {
    let base = ProcessInfo.processInfo.environment["STREAMSTORE_BENCH_DIR"] ?? NSTemporaryDirectory()
    let path = (base as NSString).appendingPathComponent("streamstore-bench-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try? FileManager.default.removeItem(atPath: path)
    return path
}

func removeFolder(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// One preallocated value, reused for every record (the append fast path copies from it).
final class ValueBuffer {
    let bytes: UnsafeMutableRawBufferPointer
    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(bytes) }
    var count: Int { bytes.count }

    init(count: Int) {
        bytes = .allocate(byteCount: count, alignment: 16)
        for index in 0..<count { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
    }

    deinit { bytes.deallocate() }
}

/// Holds a workload's state from its setup to its teardown (the teardown hook gets no setup
/// state, so both closures share this box).
final class Holder<Value> {
    var value: Value?
}

/// Deterministic pseudo-random offsets and timestamps (SplitMix64), so runs read the same spots.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

let batchRecords = 1_000

/// A pool of realistic JSON order events, made once, appended in turn: field names repeat as in
/// real event streams, values vary (ids, amounts, cities, times), so compression ratios are honest.
final class JSONEventPool {
    let storage: UnsafeMutableRawBufferPointer
    let events: [UnsafeRawBufferPointer]
    /// The next event to append.
    private var next = 0

    init(count: Int) {
        var random = SplitMix64(state: 0x5EED)
        let types = ["order-placed", "order-paid", "order-shipped"]
        let cities = ["Lisbon", "Berlin", "Osaka", "Austin", "Nairobi", "Lyon", "Porto", "Quito"]
        let texts = (0..<count).map { index in
            """
            {"type":"\(types[index % 3])","orderId":"o-\(100_000 + index)","customerId":"customer-\(random.next(below: 5_000))",\
            "amountCents":\(100 + random.next(below: 99_900)),"currency":"EUR","items":\(1 + random.next(below: 8)),\
            "city":"\(cities[random.next(below: cities.count)])","placedAt":"2026-11-29T\(10 + random.next(below: 10)):\(10 + random.next(below: 50)):00Z",\
            "correlationId":"c-\(index / 3)","sku":"SKU-\(random.next(below: 1_000_000))","channel":"web",\
            "email":"shopper\(random.next(below: 100_000))@example.com","street":"\(1 + random.next(below: 400)) Harbour Road"}
            """
        }
        storage = .allocate(byteCount: texts.reduce(0) { $0 + $1.utf8.count }, alignment: 16)
        var events: [UnsafeRawBufferPointer] = []
        var cursor = 0
        for text in texts {
            let bytes = Array(text.utf8)
            let slice = UnsafeMutableRawBufferPointer(rebasing: storage[cursor..<(cursor + bytes.count)])
            slice.copyBytes(from: bytes)
            events.append(UnsafeRawBufferPointer(slice))
            cursor += bytes.count
        }
        self.events = events
    }

    deinit { storage.deallocate() }

    /// Empties `batch` and fills it with the next `records` events; returns their value bytes.
    func fill(_ batch: inout RecordBatch, records: Int) throws(StreamStoreError) -> Int {
        batch.removeAll()
        var bytes = 0
        for _ in 0..<records {
            let event = events[next % events.count]
            next += 1
            bytes += event.count
            try batch.append(key: nil, value: event)
        }
        return bytes
    }
}

/// Empties `batch` and fills it with `records` records of `value` (no key, append time): the
/// allocation-free fast path.
@inline(__always)
func fill(_ batch: inout RecordBatch, records: Int, value: UnsafeRawBufferPointer) throws(StreamStoreError) {
    batch.removeAll()
    for _ in 0..<records { try batch.append(key: nil, value: value) }
}

func batchCapacity(valueBytes: Int) -> Int { batchRecords * (valueBytes + 16) + 128 }

/// Appends `records` records of `valueBytes` bytes in batches of 1,000. With `firstTimestamp`,
/// record `i` (offset `i` in a fresh log) carries create time `firstTimestamp + i`.
/// Returns the log bytes written.
@discardableResult
func prefill(_ topic: Topic, records: Int, valueBytes: Int, firstTimestamp: Int64? = nil) async throws(StreamStoreError) -> Int {
    let value = ValueBuffer(count: valueBytes)
    var batch = RecordBatch(capacityBytes: batchCapacity(valueBytes: valueBytes))
    var written = 0
    var logBytes = 0
    while written < records {
        batch.removeAll()
        for index in written..<min(written + batchRecords, records) {
            try batch.append(key: nil, value: value.raw, timestamp: firstTimestamp.map { $0 + Int64(index) })
        }
        written += batch.count
        logBytes += batch.byteCount
        _ = try await topic.append(batch, partition: 0)
    }
    return logBytes
}

/// A store with one topic "bench", open for the whole workload.
final class OpenStore {
    let folder: String
    let store: Store
    let topic: Topic

    init(label: String, config: TopicConfig) throws(StreamStoreError) {
        folder = freshStoreFolder(label)
        store = try Store.open(at: folder)
        topic = try store.createTopic("bench", config: config)
    }

    func closeAndRemove() {
        try? store.close()
        removeFolder(folder)
    }
}

// MARK: - Workloads

let benchmarks: @Sendable () -> Void = {
    let scale = Scale.fromEnvironment()
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], timeUnits: .automatic, warmupIterations: 1,
        scalingFactor: .one, maxDuration: scale.maxDuration, maxIterations: 10_000)

    // Fixed units for the custom metrics, so the table keeps their precision (automatic units
    // would print 14 M records/s instead of 14,213 K).
    let customUnits: [BenchmarkMetric: BenchmarkUnits] = [
        Metric.recordsPerSecond: .kilo, Metric.megabytesPerSecond: .count, Metric.appendLatencyMicros: .count,
        Metric.openMicros: .count, Metric.recoveryMillisPerGiB: .count, Metric.wakeupLatencyMicros: .count, Metric.commitsPerSecond: .count,
        Metric.segmentsScanned: .count, Metric.commitToVisibleMicros: .count,
    ]
    func configuration(iterations: Int, extra: [BenchmarkMetric] = []) -> Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .throughput, .mallocCountTotal] + extra, units: customUnits.filter { extra.contains($0.key) },
            warmupIterations: 1, maxDuration: scale.maxDuration, maxIterations: iterations)
    }
    let rateMetrics = [Metric.recordsPerSecond, Metric.megabytesPerSecond]
    registerConsumerBenchmarks(scale: scale) { configuration(iterations: $0, extra: $1) }
    registerRetentionBenchmarks(scale: scale) { configuration(iterations: $0, extra: $1) }
    registerGuardBenchmarks(scale: scale) { configuration(iterations: $0, extra: $1) }
    registerTraceBenchmarks(scale: scale) { configuration(iterations: $0, extra: $1) }
    registerOutboxBenchmarks(scale: scale) { configuration(iterations: $0, extra: $1) }

    // Appends, flush .never: one iteration = fill a reused batch with 1,000 records from one
    // preallocated value buffer, then append it. wallClock is per batch; mallocCountTotal is
    // per batch of 1,000 records. The log grows across iterations (no roll: it stays < 1 GiB).
    struct AppendState {
        var log: OpenStore
        var value: ValueBuffer
        var batch: RecordBatch
    }
    for (name, valueBytes, iterations) in [
        ("appendSequential100B", 100, scale.appendBatches100B), ("appendSequential1KiB", 1024, scale.appendBatches1KiB),
    ] {
        let holder = Holder<AppendState>()
        Benchmark(
            name, configuration: configuration(iterations: iterations, extra: rateMetrics),
            closure: { (benchmark: Benchmark) async throws in
                let start = ContinuousClock.now
                try fill(&holder.value!.batch, records: batchRecords, value: holder.value!.value.raw)
                blackHole(try await holder.value!.log.topic.append(holder.value!.batch, partition: 0))
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                benchmark.recordRates(records: batchRecords, valueBytes: valueBytes, elapsed: elapsed)
            },
            setup: {
                holder.value = AppendState(
                    log: try OpenStore(label: name, config: TopicConfig(flush: .never)), value: ValueBuffer(count: valueBytes),
                    batch: RecordBatch(capacityBytes: batchCapacity(valueBytes: valueBytes)))
            },
            teardown: {
                holder.value?.log.closeAndRemove()
                holder.value = nil
            })
    }

    // Appends of realistic JSON order events (about 290 bytes, varied like real data), flush
    // .never, uncompressed and with zstd at levels 1 and 3: one iteration = fill a reused batch
    // with the next 1,000 events of a prebuilt pool, then append it (compression included).
    struct JSONState {
        var log: OpenStore
        var events: JSONEventPool
        var batch: RecordBatch
    }
    for compression in [Compression.none, .zstd(level: 1), .zstd(level: 3)] {
        let holder = Holder<JSONState>()
        let name = "appendZstdJSON/codec:\(compression.configValue)"
        Benchmark(
            name, configuration: configuration(iterations: scale.appendBatches1KiB, extra: rateMetrics),
            closure: { (benchmark: Benchmark) async throws in
                let start = ContinuousClock.now
                let events = holder.value!.events
                let valueBytes = try events.fill(&holder.value!.batch, records: batchRecords)
                blackHole(try await holder.value!.log.topic.append(holder.value!.batch, partition: 0))
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                benchmark.recordRates(records: batchRecords, valueBytes: valueBytes / batchRecords, elapsed: elapsed)
            },
            setup: {
                holder.value = JSONState(
                    log: try OpenStore(label: "appendZstdJSON-\(compression.configValue)", config: TopicConfig(flush: .never, compression: compression)),
                    events: JSONEventPool(count: 8_192), batch: RecordBatch(capacityBytes: batchCapacity(valueBytes: 320)))
            },
            teardown: {
                holder.value?.log.closeAndRemove()
                holder.value = nil
            })
    }

    // Appends, flush .everyAppend: one iteration = `producers` tasks each append one prebuilt
    // batch of 1,000 100-byte records at once, and wait for it to be durable (group commit).
    // wallClock is per round; "append latency" has one sample per append.
    struct FsyncState {
        var log: OpenStore
        var batches: [RecordBatch]
    }
    for producers in [1, 4, 16] {
        let holder = Holder<FsyncState>()
        Benchmark(
            "appendEveryAppendFsync/producers:\(producers)",
            configuration: configuration(iterations: scale.fsyncRounds[producers]!, extra: rateMetrics + [Metric.appendLatencyMicros]),
            closure: { (benchmark: Benchmark) async throws in
                let state = holder.value!
                let topic = state.log.topic
                let start = ContinuousClock.now
                let latencies = try await withThrowingTaskGroup(of: Duration.self, returning: [Duration].self) { group in
                    for batch in state.batches {
                        group.addTask {
                            let appendStart = ContinuousClock.now
                            _ = try await topic.append(batch, partition: 0)
                            return appendStart.duration(to: .now)
                        }
                    }
                    var latencies: [Duration] = []
                    latencies.reserveCapacity(producers)
                    for try await latency in group { latencies.append(latency) }
                    return latencies
                }
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                for latency in latencies { benchmark.measurement(Metric.appendLatencyMicros, Int(latency.nanoseconds / 1e3)) }
                benchmark.recordRates(records: producers * batchRecords, valueBytes: 100, elapsed: elapsed)
            },
            setup: {
                let value = ValueBuffer(count: 100)
                var batches: [RecordBatch] = []
                for _ in 0..<producers {
                    var batch = RecordBatch(capacityBytes: batchCapacity(valueBytes: 100))
                    try fill(&batch, records: batchRecords, value: value.raw)
                    batches.append(batch)
                }
                holder.value = FsyncState(log: try OpenStore(label: "fsync\(producers)", config: TopicConfig(flush: .everyAppend)), batches: batches)
            },
            teardown: {
                holder.value?.log.closeAndRemove()
                holder.value = nil
            })
    }

    // Replay from the page cache: one iteration = read the whole prefilled log (100-byte values)
    // from offset 0, 1 MiB per read, checking every batch's CRC; record by record
    // (`replayFromStart100B`, a StoredRecord each) and batch by batch (`replayBatchLevel`,
    // readBatches + forEachRecord, no object per record). Each pass returns (records, value bytes).
    let replayMaxBytes = 1 << 20
    let replays: [(name: String, label: String, pass: @Sendable (Topic) throws -> (Int, Int))] = [
        (
            "replayFromStart100B", "replay",
            { topic in
                var offset: Int64 = 0
                var seen = 0
                var valueBytes = 0
                while true {
                    let page = try topic.read(partition: 0, from: offset, maxBytes: replayMaxBytes)
                    guard let last = page.last else { return (seen, valueBytes) }
                    seen += page.count
                    for record in page { valueBytes &+= record.value?.count ?? 0 }
                    offset = last.offset + 1
                }
            }
        ),
        (
            "replayBatchLevel", "replaybatches",
            { topic in
                var offset: Int64 = 0
                var seen = 0
                var valueBytes = 0
                while true {
                    let batches = try topic.readBatches(partition: 0, from: offset, maxBytes: replayMaxBytes)
                    guard let last = batches.last else { return (seen, valueBytes) }
                    for batch in batches {
                        try batch.forEachRecord(from: offset) { record in
                            seen += 1
                            valueBytes &+= record.value?.count ?? 0
                        }
                    }
                    offset = last.nextOffset
                }
            }
        ),
    ]
    for replay in replays {
        let holder = Holder<OpenStore>()
        let records = scale.replayRecords
        Benchmark(
            replay.name, configuration: configuration(iterations: scale.replayPasses, extra: rateMetrics + [.peakMemoryResident]),
            closure: { (benchmark: Benchmark) throws in
                let topic = holder.value!.topic
                let start = ContinuousClock.now
                let (seen, valueBytes) = try replay.pass(topic)
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                guard seen == records, valueBytes == records * 100 else {
                    benchmark.error("replay saw \(seen) records and \(valueBytes) value bytes, expected \(records) and \(records * 100)")
                    return
                }
                benchmark.recordRates(records: records, valueBytes: 100, elapsed: elapsed)
            },
            setup: {
                let log = try OpenStore(label: replay.label, config: TopicConfig(flush: .never))
                try await prefill(log.topic, records: records, valueBytes: 100)
                holder.value = log
            },
            teardown: {
                holder.value?.closeAndRemove()
                holder.value = nil
            })
    }

    // Point reads: one iteration = read the record at a random offset (maxBytes 1, so one batch:
    // the record and the rest of its batch of 1,000 are decoded, as the public API returns them).
    struct PointState {
        var log: OpenStore
        var random = SplitMix64(state: 42)
        var firstTimestamp: Int64 = 0
    }
    do {
        let holder = Holder<PointState>()
        let records = scale.pointLogRecords
        Benchmark(
            "readAtRandomOffset", configuration: configuration(iterations: scale.pointReads),
            closure: { (benchmark: Benchmark) throws in
                let offset = Int64(holder.value!.random.next(below: records))
                let page = try holder.value!.log.topic.read(partition: 0, from: offset, maxBytes: 1)
                benchmark.stopMeasurement()
                guard let first = page.first, first.offset == offset, first.value?.count == 100 else {
                    benchmark.error("read at \(offset) returned \(page.first.map { "offset \($0.offset)" } ?? "nothing")")
                    return
                }
            },
            setup: {
                let log = try OpenStore(label: "point", config: TopicConfig(flush: .never))
                try await prefill(log.topic, records: records, valueBytes: 100)
                holder.value = PointState(log: log)
            },
            teardown: {
                holder.value?.log.closeAndRemove()
                holder.value = nil
            })
    }

    // Time lookups: a log whose record i carries create time first + i ms; one iteration =
    // topic.offset(partition:for: .timestamp(t)) at a random t, checked against the known answer.
    do {
        let holder = Holder<PointState>()
        let records = scale.pointLogRecords
        Benchmark(
            "readByTimestamp", configuration: configuration(iterations: scale.pointReads),
            closure: { (benchmark: Benchmark) throws in
                let index = holder.value!.random.next(below: records)
                let timestamp = holder.value!.firstTimestamp + Int64(index)
                let offset = try holder.value!.log.topic.offset(partition: 0, for: .timestamp(timestamp))
                benchmark.stopMeasurement()
                guard offset == Int64(index) else {
                    benchmark.error("timestamp \(timestamp) gave offset \(offset), expected \(index)")
                    return
                }
            },
            setup: {
                let log = try OpenStore(label: "timestamp", config: TopicConfig(flush: .never))
                // In the past, so no timestamp is beyond the topic's future-skew limit.
                let first = Int64(Date().timeIntervalSince1970 * 1000) - Int64(records) - 60_000
                try await prefill(log.topic, records: records, valueBytes: 100, firstTimestamp: first)
                holder.value = PointState(log: log, firstTimestamp: first)
            },
            teardown: {
                holder.value?.log.closeAndRemove()
                holder.value = nil
            })
    }

    // Opening after a clean shutdown: a topic with `openPartitions` partitions, a few records in
    // each, closed. One iteration = Store.open + close (the close leaves it clean again);
    // "Store.open (μs)" is the open alone.
    do {
        let holder = Holder<String>()
        let partitions = scale.openPartitions
        Benchmark(
            "openAfterCleanShutdown",
            configuration: configuration(iterations: scale.openIterations, extra: [Metric.openMicros, .peakMemoryResident]),
            closure: { (benchmark: Benchmark) throws in
                let start = ContinuousClock.now
                let store = try Store.open(at: holder.value!)
                let opened = start.duration(to: .now)
                let clean = store.openedCleanly
                let partitionCount = try store.topic("bench").partitionCount
                try store.close()
                benchmark.stopMeasurement()
                guard clean, store.recoveries.isEmpty, partitionCount == partitions else {
                    benchmark.error("open was not clean (clean: \(clean), recoveries: \(store.recoveries.count), partitions: \(partitionCount))")
                    return
                }
                benchmark.measurement(Metric.openMicros, Int(opened.nanoseconds / 1e3))
            },
            setup: {
                let log = try OpenStore(label: "open", config: TopicConfig(partitionCount: partitions, flush: .never))
                let value = ValueBuffer(count: 100)
                var batch = RecordBatch(capacityBytes: 4096)
                try fill(&batch, records: 3, value: value.raw)
                for partition in 0..<partitions { _ = try await log.topic.append(batch, partition: partition) }
                try log.store.close()
                holder.value = log.folder
            },
            teardown: {
                if let folder = holder.value { removeFolder(folder) }
                holder.value = nil
            })
    }

    // Recovery: `recoveryBytes` of 100-byte records appended with flush .never into one segment,
    // then the Store dropped without close() (as a crash would leave it: no clean-shutdown
    // marker, recovery point at the segment's start). One iteration = Store.open, which scans
    // and checks the whole tail and rebuilds its indexes; the store is dropped again unclosed,
    // so every iteration recovers the same tail. The warmup iteration also pays the first
    // fsync of the tail (a disk cost, not a scan cost); the page cache stays warm.
    do {
        let holder = Holder<(folder: String, logBytes: Int)>()
        Benchmark(
            "recoverUnflushedTail",
            configuration: configuration(
                iterations: scale.recoveryIterations, extra: [Metric.recoveryMillisPerGiB, Metric.megabytesPerSecond, .peakMemoryResident]),
            closure: { (benchmark: Benchmark) throws in
                let (folder, logBytes) = holder.value!
                let start = ContinuousClock.now
                var store: Store? = try Store.open(at: folder)
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                let recovery = store!.recoveries.first
                let clean = store!.openedCleanly
                store = nil  // unclean again: the next open recovers the same tail
                guard !clean, let recovery, recovery.truncatedBytes == 0, recovery.scannedBytes == Int64(logBytes) else {
                    benchmark.error("expected a recovery scanning \(logBytes) bytes, got \(recovery.map(String.init(describing:)) ?? "none") (clean: \(clean))")
                    return
                }
                let seconds = max(elapsed.nanoseconds, 1) / 1e9
                benchmark.measurement(Metric.recoveryMillisPerGiB, Int(seconds * 1e3 * Double(1 << 30) / Double(logBytes)))
                benchmark.measurement(Metric.megabytesPerSecond, Int(Double(logBytes) / seconds / 1e6))
            },
            setup: {
                let folder = freshStoreFolder("recover")
                // One segment as large as allowed, so the whole tail stays unflushed (a roll would
                // fsync the sealed segment and move the recovery point past it).
                let config = TopicConfig(segmentBytes: Limits.maxSegmentBytes, flush: .never)
                let records = scale.recoveryBytes / 108 + 1  // about 108 log bytes per 100-byte record
                var store: Store? = try Store.open(at: folder)
                let logBytes = try await prefill(try store!.createTopic("bench", config: config), records: records, valueBytes: 100)
                store = nil  // no close(): releases the lock and leaves the log to recover
                holder.value = (folder, logBytes)
            },
            teardown: {
                if let folder = holder.value?.folder { removeFolder(folder) }
                holder.value = nil
            })
    }
}
