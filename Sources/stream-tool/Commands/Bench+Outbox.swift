import ArgumentParser
import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox

extension StreamTool {
    /// `stream-tool bench outbox`: what the transactional outbox's relay costs against plain
    /// appends of the same records, and how long an event takes from its commit to a reader.
    struct BenchOutbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "outbox",
            abstract: "Time the outbox relay against plain appends, and commit-to-visible latency.",
            discussion: """
                Runs in a fresh temporary folder: a store and a SQLite database (WAL, \
                synchronous NORMAL) with the outbox tables. The topic has flush always and a \
                de-duplication window, as the relay wants.

                Throughput, per --batch-rows size: ROWS rows of --record-bytes are enqueued \
                (untimed), then the relay publishes them all (timed: read, append, fsync, delete); \
                then the same records, with message ids, are appended directly in batches of the \
                same size (timed). Each size runs min(--rows, size x --passes) rows, --rounds times with the \
                relay and the appends taking turns; the table has the medians.

                Latency: the relay runs; one event at a time is committed in its own transaction \
                and a replay that follows the topic waits for it; reported: the time from the \
                commit's return to the record reaching the reader, p50, p99 and max.
                """)

        @Option(help: ArgumentHelp("Rows per batch size, at most.", valueName: "N"))
        var rows = 100_000

        @Option(help: ArgumentHelp("Passes per batch size, at most (bounds the small sizes).", valueName: "N"))
        var passes = 2_000

        @Option(name: .customLong("batch-rows"), help: ArgumentHelp("Batch sizes to time, comma-separated.", valueName: "LIST"))
        var batchRows = "1,100,1000"

        @Option(name: .customLong("record-bytes"), help: ArgumentHelp("The value size of each record.", valueName: "B"))
        var recordBytes = 100

        @Option(help: ArgumentHelp("Rounds per batch size, relay and appends taking turns; the table has the medians.", valueName: "N"))
        var rounds = 3

        @Option(name: .customLong("latency-events"), help: ArgumentHelp("Events timed one at a time from commit to reader (0: none).", valueName: "N"))
        var latencyEvents = 2_000

        func validate() throws {
            guard rows > 0, passes > 0, rounds > 0, latencyEvents >= 0 else {
                throw ValidationError("--rows, --passes and --rounds must be positive, --latency-events not negative.")
            }
            guard (0...BenchOptions.maxRecordBytes).contains(recordBytes) else {
                throw ValidationError("--record-bytes must be between 0 and \(BenchOptions.maxRecordBytes).")
            }
            for size in try sizes() where !(1...Limits.maxOutboxBatchRows).contains(size) {
                throw ValidationError("--batch-rows: \(size) is not between 1 and \(Limits.maxOutboxBatchRows).")
            }
        }

        func sizes() throws -> [Int] {
            try batchRows.split(separator: ",").map { text in
                guard let size = Int(text.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--batch-rows: \(text) is not a number.") }
                return size
            }
        }

        func run() async throws {
            try await reportingErrors {
                let folder = NSTemporaryDirectory() + "stream-tool-bench-outbox-\(UUID().uuidString)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: folder) }
                let run = OutboxBenchRun(folder: folder, recordBytes: recordBytes)
                var table = TextTable([("BATCH ROWS", .right), ("ROWS", .right), ("RELAY ROWS/S", .right), ("APPEND ROWS/S", .right), ("RELAY/APPEND", .right)])
                var round = 0
                for size in try sizes() {
                    let count = min(rows, size * passes)
                    var relays: [Double] = []
                    var appends: [Double] = []
                    for _ in 0..<rounds {
                        relays.append(try await run.relayRate(rows: count, batchRows: size, round: round))
                        appends.append(try await run.appendRate(rows: count, batchRows: size, round: round))
                        round += 1
                    }
                    let relay = relays.sorted()[relays.count / 2]
                    let append = appends.sorted()[appends.count / 2]
                    table.add([
                        Format.grouped(Int64(size)), Format.grouped(Int64(count)), Format.grouped(Int64(relay)), Format.grouped(Int64(append)),
                        Format.fixed(relay / append, digits: 2),
                    ])
                }
                print("Outbox relay against plain appends (\(recordBytes)-byte values, flush always, de-duplication window on; medians of \(rounds) rounds):")
                print(table.render(indent: "  "), terminator: "")
                if latencyEvents > 0 {
                    let latencies = try await run.commitToVisible(events: latencyEvents)
                    func at(_ fraction: Double) -> String {
                        Format.fixed(Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]) / 1000, digits: 2)
                    }
                    print("Commit to visible, \(Format.grouped(Int64(latencies.count))) events one at a time: p50 \(at(0.5)) ms, p99 \(at(0.99)) ms, max \(at(1)) ms")
                }
            }
        }
    }
}

/// The measurements of `bench outbox`, each in a store and database of its own in `folder`.
struct OutboxBenchRun {
    let folder: String
    let recordBytes: Int

    var value: String { String(repeating: "v", count: recordBytes) }

    func open(_ name: String) throws -> (store: Store, database: DatabasePool, topic: Topic) {
        let store = try Store.open(at: "\(folder)/\(name)-store")
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let database = try DatabasePool(path: "\(folder)/\(name).sqlite", configuration: configuration)
        try OutboxSchema.migrate(database)
        let topic = try store.createTopic("bench", config: TopicConfig(flush: .everyAppend, dedupeWindowMilliseconds: 3_600_000))
        return (store, database, topic)
    }

    /// Rows per second the relay publishes, `batchRows` a pass.
    func relayRate(rows: Int, batchRows: Int, round: Int) async throws -> Double {
        let (store, database, _) = try open("relay-\(round)")
        defer { try? store.close() }
        let value = self.value
        for start in stride(from: 0, to: rows, by: 1000) {
            let end = min(start + 1000, rows)
            try await database.write { db in
                for number in start..<end { try Outbox.enqueue(topic: "bench", key: "key-\(number % 64)", value: value, in: db) }
            }
        }
        let relay = try OutboxRelay(database: database, store: store, options: OutboxRelay.Options(batchRows: batchRows))
        let stopwatch = Stopwatch()
        let published = try await relay.publishPending()
        let seconds = stopwatch.elapsedSeconds
        guard published == rows else { throw ToolError("the relay published \(published) of \(rows) rows") }
        return Double(rows) / seconds
    }

    /// Records per second appended directly: the same records, message ids included, in
    /// batches of `batchRows`.
    func appendRate(rows: Int, batchRows: Int, round: Int) async throws -> Double {
        let (store, _, topic) = try open("append-\(round)")
        defer { try? store.close() }
        let value = Array(self.value.utf8)
        let stopwatch = Stopwatch()
        var batch = RecordBatch()
        for start in stride(from: 0, to: rows, by: batchRows) {
            batch.removeAll()
            for number in start..<min(start + batchRows, rows) {
                try batch.append(
                    key: Array("key-\(number % 64)".utf8), value: value,
                    headers: [RecordHeader(key: HeaderName.messageID.rawValue, value: UUID().uuidString.lowercased())])
            }
            _ = try await topic.append(batch, partition: 0)
        }
        return Double(rows) / stopwatch.elapsedSeconds
    }

    /// Microseconds from each event's commit to a following replay returning it, sorted.
    func commitToVisible(events: Int) async throws -> [Int64] {
        let (store, database, topic) = try open("latency")
        defer { try? store.close() }
        let relay = try OutboxRelay(database: database, store: store)
        let relaying = Task { await relay.run() }
        defer { relaying.cancel() }
        var records = topic.replay(partition: 0, options: ReplayOptions(from: .end, follow: true)).makeAsyncIterator()
        var latencies: [Int64] = []
        latencies.reserveCapacity(events)
        let value = self.value
        for number in 0..<events {
            try await database.write { db in try Outbox.enqueue(topic: "bench", key: "key", value: "\(number) \(value)", in: db) }
            let committed = Clocks.monotonicNanoseconds()
            guard let record = try await records.next() else { throw ToolError("the replay ended") }
            let seen = Clocks.monotonicNanoseconds()
            guard record.valueString?.hasPrefix("\(number) ") == true else { throw ToolError("event \(number) came out as \(record.valueString ?? "null")") }
            latencies.append(Int64(seen - committed) / 1000)
        }
        return latencies.sorted()
    }
}
