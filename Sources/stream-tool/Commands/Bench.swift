import ArgumentParser
import Foundation
import StreamStore
import Synchronization

extension StreamTool {
    /// `stream-tool bench append|replay|e2e|processes`: throughput and latency benchmarks, in the spirit of
    /// Kafka's producer and consumer perf tests.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Throughput and latency benchmarks against this store.",
            discussion: """
                append: times appends; reports records/s, MB/s of payload and per-batch append \
                latency percentiles. replay: fills a topic (timed and reported as the append side, \
                as in append), then times full replays of every partition, each partition in turn, as \
                one consumer would: at batch level (readBatches, forEachRecord), at record level \
                (for try await record in topic.replay), through record views \
                (topic.replay().forEachRecord) and in pages of records (topic.read). e2e: \
                producers append while one consumer per partition polls for new records; reports \
                end-to-end latency (append timestamp to seen by the consumer, ms resolution) and \
                overall records/s.

                Without --store the benchmark runs in a fresh temporary folder that is deleted \
                afterwards ($STREAM_STORE_DIR is ignored). With --store DIR, it creates topic \
                bench-<uuid> there and leaves it in place.
                """,
            subcommands: [
                BenchAppend.self, BenchReplay.self, BenchEndToEnd.self, BenchProducer.self, BenchConsume.self, BenchProcesses.self, BenchReaderProcess.self, BenchOutbox.self, BenchEvents.self,
                BenchRequestReply.self, BenchResponderProcess.self, BenchSagas.self,
            ])
    }
}

/// The options every `bench` subcommand takes.
struct BenchOptions: ParsableArguments {
    enum Flush: String, ExpressibleByArgument, CaseIterable {
        case never, always
        var policy: FlushPolicy { self == .never ? .never : .everyAppend }
    }

    enum Payload: String, ExpressibleByArgument, CaseIterable {
        case pattern, random, json
    }

    @Option(help: ArgumentHelp("How many records to append.", valueName: "N"))
    var records: Int = 1_000_000

    @Option(name: .customLong("record-bytes"), help: ArgumentHelp("The value size of each record (ignored with --payload json).", valueName: "B"))
    var recordBytes: Int = 100

    @Option(name: .customLong("batch-records"), help: ArgumentHelp("Records per appended batch.", valueName: "K"))
    var batchRecords: Int = 1000

    @Option(help: ArgumentHelp("Partitions of the benchmark topic.", valueName: "P"))
    var partitions: Int = 1

    @Option(help: ArgumentHelp("Concurrent producer tasks; batches go to partitions round-robin.", valueName: "C"))
    var producers: Int = 1

    @Option(help: "When appends are fsynced: never or always (each append, group commit).")
    var flush: Flush = .never

    @Option(help: ArgumentHelp("Compression of new batches: none, zstd or zstd:LEVEL.", valueName: "CODEC"))
    var compression: String = "none"

    @Option(help: "The values: pattern (a fixed byte pattern), random (random bytes) or json (order events of about 290 bytes).")
    var payload: Payload?

    @Flag(help: "Print one JSON object with the results instead of text.")
    var json = false

    var payloadKind: Payload { payload ?? .pattern }

    var compressionValue: Compression {
        Compression(configValue: compression) ?? .none
    }

    /// The largest value a record may have here: room is left for the record's own framing.
    static var maxRecordBytes: Int { Limits.maxRecordBytes - 64 }

    func validate() throws {
        guard records > 0 else { throw ValidationError("--records must be positive, not \(records).") }
        guard (0...Self.maxRecordBytes).contains(recordBytes) else {
            throw ValidationError("--record-bytes must be between 0 and \(Self.maxRecordBytes), not \(recordBytes).")
        }
        guard (1...Limits.maxRecordsPerBatch).contains(batchRecords) else {
            throw ValidationError("--batch-records must be between 1 and \(Limits.maxRecordsPerBatch), not \(batchRecords).")
        }
        guard (1...Limits.maxPartitions).contains(partitions) else {
            throw ValidationError("--partitions must be between 1 and \(Limits.maxPartitions), not \(partitions).")
        }
        guard (1...1024).contains(producers) else {
            throw ValidationError("--producers must be between 1 and 1024, not \(producers).")
        }
        guard let codec = Compression(configValue: compression) else {
            throw ValidationError("--compression must be none, zstd or zstd:LEVEL, not \"\(compression)\".")
        }
        if case .zstd(let level) = codec, !Compression.zstdLevels.contains(level) {
            throw ValidationError("--compression zstd level must be in \(Compression.zstdLevels.lowerBound)...\(Compression.zstdLevels.upperBound), not \(level).")
        }
        let valueBytes = payloadKind == .json ? 400 : recordBytes
        let estimate = min(batchRecords, records) * (valueBytes + 24) + 128
        guard estimate <= Limits.maxBatchBytes else {
            throw ValidationError(
                "A batch of \(batchRecords) records of \(valueBytes) bytes is over the \(Format.bytes(Int64(Limits.maxBatchBytes))) batch limit; lower --batch-records.")
        }
    }
}

/// Where a run keeps its topic: the given store, or a temporary one removed afterwards.
struct BenchStore {
    let options: StoreOptions
    let isTemporary: Bool

    init(storeOptions: StoreOptions, parent: StoreOptions) {
        var merged = storeOptions.resolved(parent: parent)
        if let store = merged.store, !store.isEmpty {
            isTemporary = false
        } else {
            merged.store = NSTemporaryDirectory() + "stream-tool-bench-\(UUID().uuidString)"
            isTemporary = true
        }
        options = merged
    }

    func run(_ body: (Topic) async throws -> Void, config: TopicConfig) async throws {
        defer {
            if isTemporary { try? FileManager.default.removeItem(atPath: options.path) }
        }
        try await options.withStore(createIfMissing: true) { store in
            let topic = try store.createTopic("bench-\(UUID().uuidString.lowercased())", config: config)
            try await body(topic)
        }
    }
}

extension StreamTool {
    struct BenchAppend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "append",
            abstract: "Time appends: records/s, MB/s and per-batch append latency.")

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions
        @OptionGroup(title: "Benchmark options") var bench: BenchOptions
        @OptionGroup(title: "Metrics options") var metrics: MetricsOptions

        func run() async throws {
            try await reportingErrors {
                let server = try metrics.startServing()
                defer { server?.stop() }
                try await BenchRun(options: bench, store: BenchStore(storeOptions: storeOptions, parent: root.storeOptions)).append()
            }
        }
    }

    struct BenchReplay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Fill a topic (timed as an append), then time a full replay at batch and record level.")

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions
        @OptionGroup(title: "Benchmark options") var bench: BenchOptions
        @Flag(name: .customLong("cold-cache"), help: ArgumentHelp(
            "Empty the operating system's page cache before each replay (writes /proc/sys/vm/drop_caches: Linux, as root), so the replays read from the disk."))
        var coldCache = false
        @OptionGroup(title: "Metrics options") var metrics: MetricsOptions

        func run() async throws {
            try await reportingErrors {
                let server = try metrics.startServing()
                defer { server?.stop() }
                var run = BenchRun(options: bench, store: BenchStore(storeOptions: storeOptions, parent: root.storeOptions))
                run.coldCache = coldCache
                try await run.replay()
            }
        }
    }

    struct BenchEndToEnd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "e2e",
            abstract: "Append while consumers poll: end-to-end latency and overall records/s.")

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions
        @OptionGroup(title: "Benchmark options") var bench: BenchOptions
        @OptionGroup(title: "Metrics options") var metrics: MetricsOptions

        func run() async throws {
            try await reportingErrors {
                let server = try metrics.startServing()
                defer { server?.stop() }
                try await BenchRun(options: bench, store: BenchStore(storeOptions: storeOptions, parent: root.storeOptions)).endToEnd()
            }
        }
    }
}
