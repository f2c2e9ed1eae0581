import StreamStore
import Synchronization

/// Counts shared between producer, consumer and progress tasks.
private final class BenchCounters: Sendable {
    let appended = Atomic<Int>(0)
    let consumed = Atomic<Int>(0)
}

/// What one task of a run hands back.
private enum BenchTaskResult: Sendable {
    /// Per-batch append durations in nanoseconds, and the payload bytes appended.
    case producer(latencies: [Int64], payloadBytes: Int)
    /// Per-record end-to-end latencies in milliseconds.
    case consumer(latencies: [Int64])
    case progress
}

/// One benchmark run: the parameters, and the three benchmarks over them.
///
/// Batch `b` (0-based, of `batchRecords` records, the last one shorter) is appended by producer
/// `b % producers` to partition `b % partitions`, so with as many producers as partitions each
/// producer owns one partition.
struct BenchRun {
    let records: Int
    let recordBytes: Int
    let batchRecords: Int
    let partitions: Int
    let producers: Int
    let flush: BenchOptions.Flush
    let compression: Compression
    let payload: BenchOptions.Payload
    let json: Bool
    let store: BenchStore
    /// `bench replay --cold-cache`: the page cache is emptied before each replay.
    var coldCache = false

    init(options: BenchOptions, store: BenchStore) {
        records = options.records
        recordBytes = options.recordBytes
        batchRecords = options.batchRecords
        partitions = options.partitions
        producers = options.producers
        flush = options.flush
        compression = options.compressionValue
        payload = options.payloadKind
        json = options.json
        self.store = store
    }

    private var config: TopicConfig {
        TopicConfig(partitionCount: partitions, flush: flush.policy, compression: compression)
    }

    private var batchCount: Int { (records + batchRecords - 1) / batchRecords }

    /// How many records partition `partition` ends up with.
    private func expectedRecords(partition: Int) -> Int {
        stride(from: partition, to: batchCount, by: partitions).reduce(0) { $0 + min(batchRecords, records - $1 * batchRecords) }
    }

    // MARK: Benchmarks

    func append() async throws {
        let pool = BenchPayloadPool(kind: payload, recordBytes: recordBytes)
        try await store.run({ topic in
            header("append", topic: topic, pool: pool)
            let stopwatch = Stopwatch()
            let (latencies, payloadBytes, _) = try await produce(into: topic, pool: pool, consumers: false, progressLabel: "appended")
            let seconds = stopwatch.elapsedSeconds
            let stored = try storedBytes(topic)
            let percentiles = BenchPercentiles(latencies, scale: 1e-6)
            if json {
                print(jsonObject("append", topic: topic, payloadBytes: payloadBytes, storedBytes: stored, fields: [
                    ("seconds", Format.fixed(seconds, digits: 6)),
                    ("recordsPerSecond", Format.fixed(Double(records) / seconds, digits: 1)),
                    ("megabytesPerSecond", Format.fixed(Double(payloadBytes) / 1e6 / seconds, digits: 3)),
                    ("appendLatencyMs", percentiles.json(digits: 3)),
                ]))
            } else {
                var report = BenchReport()
                report.add("append", Format.rate(Double(records), seconds: seconds), "records/s")
                report.add("", Format.megabytesPerSecond(Int64(payloadBytes), seconds: seconds), "MB/s")
                report.add("elapsed", Format.seconds(seconds).dropLast(2).description, "s")
                report.addLatencies("append latency", percentiles, unit: "ms", digits: 3, note: "per batch of \(Format.grouped(Int64(batchRecords))) records")
                report.addBytes("on disk", stored)
                print(report.render())
            }
        }, config: config)
    }

    func replay() async throws {
        let pool = BenchPayloadPool(kind: payload, recordBytes: recordBytes)
        try await store.run({ topic in
            header("replay", topic: topic, pool: pool)
            // The fill is the same workload as `bench append`; it is timed too, so one run gives
            // both sides of append-then-read-back (tools/peers compares them with other stores).
            let fillStopwatch = Stopwatch()
            let (fillLatencies, payloadBytes, _) = try await produce(into: topic, pool: pool, consumers: false, progressLabel: "filling")
            let fillSeconds = fillStopwatch.elapsedSeconds
            let stored = try storedBytes(topic)
            let readBytes = readLimit(pool)

            let progress = ProgressLine()
            var batchLevel = (records: 0, bytes: 0)
            if coldCache { try PageCache.drop() }
            let batchStopwatch = Stopwatch()
            for partition in 0..<partitions {
                var offset: Int64 = 0
                while true {
                    let batches = try topic.readBatches(partition: partition, from: offset, maxBytes: readBytes)
                    guard let last = batches.last else { break }
                    for batch in batches {
                        try batch.forEachRecord(from: offset) { record in
                            batchLevel.records += 1
                            batchLevel.bytes &+= record.value?.count ?? 0
                        }
                    }
                    offset = last.nextOffset
                    progress.update { "replay (batch level): \(Format.grouped(Int64(batchLevel.records))) of \(Format.grouped(Int64(records))) records" }
                }
            }
            let batchSeconds = batchStopwatch.elapsedSeconds
            progress.finish()

            // Record level, the idiomatic way: `for try await record in topic.replay(...)`, a
            // `StoredRecord` per record.
            var recordLevel = (records: 0, bytes: 0)
            if coldCache { try PageCache.drop() }
            let recordStopwatch = Stopwatch()
            for partition in 0..<partitions {
                for try await record in topic.replay(partition: partition, options: ReplayOptions(maxBytesPerRead: readBytes)) {
                    recordLevel.records += 1
                    recordLevel.bytes &+= record.value?.count ?? 0
                    if recordLevel.records & 0xFFFF == 0 {
                        progress.update { "replay (records): \(Format.grouped(Int64(recordLevel.records))) of \(Format.grouped(Int64(records))) records" }
                    }
                }
            }
            let recordSeconds = recordStopwatch.elapsedSeconds
            progress.finish()

            // Record level through views: `topic.replay(...).forEachRecord { record in ... }`.
            var viewLevel = (records: 0, bytes: 0)
            if coldCache { try PageCache.drop() }
            let viewStopwatch = Stopwatch()
            for partition in 0..<partitions {
                try await topic.replay(partition: partition, options: ReplayOptions(maxBytesPerRead: readBytes)).forEachRecord { record in
                    viewLevel.records += 1
                    viewLevel.bytes &+= record.value?.count ?? 0
                }
                progress.update { "replay (record views): \(Format.grouped(Int64(viewLevel.records))) of \(Format.grouped(Int64(records))) records" }
            }
            let viewSeconds = viewStopwatch.elapsedSeconds
            progress.finish()

            // Pages of records: `topic.read(partition:from:maxBytes:)`, an array per read.
            var readLevel = (records: 0, bytes: 0)
            if coldCache { try PageCache.drop() }
            let readStopwatch = Stopwatch()
            for partition in 0..<partitions {
                var offset: Int64 = 0
                while true {
                    let page = try topic.read(partition: partition, from: offset, maxBytes: readBytes)
                    guard let last = page.last else { break }
                    for record in page {
                        readLevel.bytes &+= record.value?.count ?? 0
                    }
                    readLevel.records += page.count
                    offset = last.offset + 1
                    progress.update { "replay (read pages): \(Format.grouped(Int64(readLevel.records))) of \(Format.grouped(Int64(records))) records" }
                }
            }
            let readSeconds = readStopwatch.elapsedSeconds
            progress.finish()

            for (name, seen) in [("batch-level", batchLevel), ("record-level", recordLevel), ("record-view", viewLevel), ("read-page", readLevel)]
            where seen.records != records || seen.bytes != payloadBytes {
                throw ToolError("The \(name) replay saw \(seen.records) records of \(seen.bytes) payload bytes, not the \(records) records of \(payloadBytes) bytes appended.")
            }

            func rates(_ seconds: Double) -> String {
                "{\"seconds\":\(Format.fixed(seconds, digits: 6)),\"recordsPerSecond\":\(Format.fixed(Double(records) / seconds, digits: 1)),\"megabytesPerSecond\":\(Format.fixed(Double(payloadBytes) / 1e6 / seconds, digits: 3))}"
            }
            let fillPercentiles = BenchPercentiles(fillLatencies, scale: 1e-6)
            if json {
                let fill = "{\"seconds\":\(Format.fixed(fillSeconds, digits: 6)),\"recordsPerSecond\":\(Format.fixed(Double(records) / fillSeconds, digits: 1)),"
                    + "\"megabytesPerSecond\":\(Format.fixed(Double(payloadBytes) / 1e6 / fillSeconds, digits: 3)),\"appendLatencyMs\":\(fillPercentiles.json(digits: 3))}"
                print(jsonObject("replay", topic: topic, payloadBytes: payloadBytes, storedBytes: stored, fields: [
                    ("append", fill),
                    ("batchLevel", rates(batchSeconds)),
                    ("recordLevel", rates(recordSeconds)),
                    ("viewLevel", rates(viewSeconds)),
                    ("readLevel", rates(readSeconds)),
                ]))
            } else {
                var report = BenchReport()
                for (name, seconds) in [
                    ("append (the fill)", fillSeconds), ("replay (batch level)", batchSeconds), ("replay (records)", recordSeconds),
                    ("replay (record views)", viewSeconds), ("read (record pages)", readSeconds),
                ] {
                    report.add(name, Format.rate(Double(records), seconds: seconds), "records/s")
                    report.add("", Format.megabytesPerSecond(Int64(payloadBytes), seconds: seconds), "MB/s")
                    report.add("", Format.seconds(seconds).dropLast(2).description, "s")
                }
                report.addBytes("on disk", stored)
                print(report.render())
            }
        }, config: config)
    }

    func endToEnd() async throws {
        let pool = BenchPayloadPool(kind: payload, recordBytes: recordBytes)
        try await store.run({ topic in
            header("e2e", topic: topic, pool: pool)
            let stopwatch = Stopwatch()
            let (_, payloadBytes, endToEnd) = try await produce(into: topic, pool: pool, consumers: true, progressLabel: "consumed")
            let seconds = stopwatch.elapsedSeconds
            let stored = try storedBytes(topic)
            let percentiles = BenchPercentiles(endToEnd, scale: 1)
            if json {
                print(jsonObject("e2e", topic: topic, payloadBytes: payloadBytes, storedBytes: stored, fields: [
                    ("seconds", Format.fixed(seconds, digits: 6)),
                    ("recordsPerSecond", Format.fixed(Double(records) / seconds, digits: 1)),
                    ("megabytesPerSecond", Format.fixed(Double(payloadBytes) / 1e6 / seconds, digits: 3)),
                    ("endToEndLatencyMs", percentiles.json(digits: 0)),
                    ("latencyResolutionMs", "1"),
                ]))
            } else {
                var report = BenchReport()
                report.add("end to end", Format.rate(Double(records), seconds: seconds), "records/s")
                report.add("", Format.megabytesPerSecond(Int64(payloadBytes), seconds: seconds), "MB/s")
                report.add("elapsed", Format.seconds(seconds).dropLast(2).description, "s")
                report.addLatencies(
                    "e2e latency", percentiles, unit: "ms", digits: 0,
                    note: "append timestamp to seen by a polling consumer; 1 ms resolution")
                report.addBytes("on disk", stored)
                print(report.render())
            }
        }, config: config)
    }

    // MARK: Producing and consuming

    /// Appends all the records with `producers` concurrent tasks, and with `consumers` one
    /// polling consumer task per partition that reads them back as they land. Returns the
    /// per-batch append durations (ns), the payload bytes, and the consumers' per-record
    /// end-to-end latencies (ms).
    private func produce(into topic: Topic, pool: BenchPayloadPool, consumers: Bool, progressLabel: String) async throws
        -> (latencies: [Int64], payloadBytes: Int, endToEnd: [Int64])
    {
        let counters = BenchCounters()
        let (records, batchRecords, partitions, producers, batchCount) = (self.records, self.batchRecords, self.partitions, self.producers, self.batchCount)
        let capacity = min(Limits.maxBatchBytes, batchRecords * (pool.maxValueBytes + 24) + 128)
        let readBytes = readLimit(pool)
        let expected = (0..<partitions).map { expectedRecords(partition: $0) }
        var latencies: [Int64] = []
        var endToEnd: [Int64] = []
        var payloadBytes = 0
        latencies.reserveCapacity(batchCount)

        try await withThrowingTaskGroup(of: BenchTaskResult.self) { group in
            for producer in 0..<producers {
                group.addTask {
                    var batch = RecordBatch(capacityBytes: capacity)
                    var durations: [Int64] = []
                    durations.reserveCapacity(batchCount / producers + 1)
                    var bytes = 0
                    for number in stride(from: producer, to: batchCount, by: producers) {
                        batch.removeAll()
                        let first = number * batchRecords
                        for index in first..<min(first + batchRecords, records) {
                            let value = pool.value(index)
                            bytes += value.count
                            try batch.append(key: nil, value: value)
                        }
                        let start = Clocks.monotonicNanoseconds()
                        _ = try await topic.append(batch, partition: number % partitions)
                        durations.append(Int64(Clocks.monotonicNanoseconds() - start))
                        counters.appended.add(batch.count, ordering: .relaxed)
                        // Leave room for the consumers on a busy cooperative pool.
                        if consumers { await Task.yield() }
                    }
                    return .producer(latencies: durations, payloadBytes: bytes)
                }
            }
            if consumers {
                for partition in 0..<partitions where expected[partition] > 0 {
                    group.addTask {
                        let count = expected[partition]
                        var seen: [Int64] = []
                        seen.reserveCapacity(count)
                        var next: Int64 = 0
                        while next < Int64(count) {
                            let page = try topic.read(partition: partition, from: next, maxBytes: readBytes)
                            guard let last = page.last else {
                                // Nothing new yet: live tailing is a future feature, so poll.
                                try await Task.sleep(for: .microseconds(100))
                                continue
                            }
                            let now = Clocks.nowMilliseconds()
                            for record in page { seen.append(now - record.timestamp) }
                            next = last.offset + 1
                            counters.consumed.add(page.count, ordering: .relaxed)
                        }
                        return .consumer(latencies: seen)
                    }
                }
            }
            let progressTask: Task<Void, Never>? = StandardError.isTerminal ? Task {
                let progress = ProgressLine()
                let stopwatch = Stopwatch()
                while !Task.isCancelled {
                    let done = consumers ? counters.consumed.load(ordering: .relaxed) : counters.appended.load(ordering: .relaxed)
                    progress.update {
                        "\(progressLabel) \(Format.grouped(Int64(done))) of \(Format.grouped(Int64(records))) records, \(Format.rate(Double(done), seconds: stopwatch.elapsedSeconds)) records/s"
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                progress.finish()
            } : nil
            defer { progressTask?.cancel() }
            for try await result in group {
                switch result {
                case .producer(let durations, let bytes):
                    latencies.append(contentsOf: durations)
                    payloadBytes += bytes
                case .consumer(let seen):
                    endToEnd.append(contentsOf: seen)
                case .progress:
                    break
                }
            }
            progressTask?.cancel()
            await progressTask?.value
        }
        if consumers && endToEnd.count != records {
            throw ToolError("The consumers saw \(endToEnd.count) records, not the \(records) appended.")
        }
        return (latencies, payloadBytes, endToEnd)
    }

    // MARK: Output

    private func readLimit(_ pool: BenchPayloadPool) -> Int {
        max(4 << 20, min(Limits.maxBatchBytes, batchRecords * (pool.maxValueBytes + 24) + 128) + 4096)
    }

    private func storedBytes(_ topic: Topic) throws -> Int64 {
        try (0..<partitions).reduce(Int64(0)) { $0 + (try topic.info(partition: $1)).logBytes }
    }

    private var storeDescription: String {
        store.isTemporary ? "temporary store" : "store \(store.options.path)"
    }

    /// The parameters, one line, before any result (text output only).
    private func header(_ name: String, topic: Topic, pool: BenchPayloadPool) {
        guard !json else { return }
        let size = payload == .json ? "about \(pool.maxValueBytes) B" : "\(recordBytes) B"
        print(
            "bench \(name): \(Format.grouped(Int64(records))) records of \(size) (\(payload.rawValue)), batches of \(Format.grouped(Int64(batchRecords))), "
                + "\(partitions) partition\(partitions == 1 ? "" : "s"), \(producers) producer\(producers == 1 ? "" : "s"), flush \(flush.rawValue), "
                + "compression \(compression), \(storeDescription)\(store.isTemporary ? "" : " topic \(topic.name)")")
    }

    private func jsonObject(_ name: String, topic: Topic, payloadBytes: Int, storedBytes: Int64, fields: [(String, String)]) -> String {
        var members: [(String, String)] = [
            ("bench", JSONText.quoted(name)),
            ("records", "\(records)"),
            ("recordBytes", payload == .json ? Format.fixed(Double(payloadBytes) / Double(records), digits: 1) : "\(recordBytes)"),
            ("payload", JSONText.quoted(payload.rawValue)),
            ("batchRecords", "\(batchRecords)"),
            ("partitions", "\(partitions)"),
            ("producers", "\(producers)"),
            ("flush", JSONText.quoted(flush.rawValue)),
            ("compression", JSONText.quoted(compression.configValue)),
            ("store", store.isTemporary ? "null" : JSONText.quoted(store.options.path)),
            ("topic", store.isTemporary ? "null" : JSONText.quoted(topic.name)),
            ("payloadBytes", "\(payloadBytes)"),
            ("storedBytes", "\(storedBytes)"),
        ]
        members += fields
        return "{" + members.map { "\(JSONText.quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }
}
