import ArgumentParser
import Foundation
import StreamStore
import StreamStoreInspect
import Synchronization

extension StreamTool {
    /// `stream-tool demo`: fills a store with realistic events and reads them back, to show what
    /// the store does and how fast (the main job of `make run`).
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill the store with sample order events, replay, rebuild a projection, consume.",
            discussion: """
                Creates topic orders (4 partitions, flush always, zstd) unless it exists, then \
                appends order-placed, payment-settled and order-shipped events (JSON, keyed by \
                customer, with event-type, correlation-id and message-id headers) in batches of \
                1,000 from 4 concurrent tasks. It then replays partition 0; rebuilds the \
                projection revenue-per-customer from the order-placed events (from its latest \
                snapshot, so a second run folds only the new events) and prints the top 5 \
                customers; lets consumer group billing (two competing consumers) handle three \
                quarters of its backlog of payments, committing as it goes, and shows its lag; \
                runs --saga-orders orders through the order saga (reserve stock, charge payment, \
                ship: topics stock, payments and shipping, answered by responders in this \
                process; every fifth payment is declined and its stock released, the saga's \
                events in order.sagas); and ends with the throughput of each step. Running it again appends more and \
                continues from the snapshot and the group's committed offsets.
                """)

        static let topicName = "orders"
        static let recordsPerBatch = 1000
        static let taskCount = 4

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Option(parsing: .unconditional, help: ArgumentHelp("How many events to append.", valueName: "N"))
        var records: Int = 200_000

        @Option(name: .customLong("saga-orders"), help: ArgumentHelp("How many orders to run through the order saga.", valueName: "N"))
        var sagaOrders: Int = 200

        func validate() throws {
            guard records >= 0 else { throw ValidationError("--records must not be negative.") }
            guard sagaOrders >= 0 else { throw ValidationError("--saga-orders must not be negative.") }
        }

        func run() async throws {
            try await reportingErrors {
                let options = storeOptions.resolved(parent: root.storeOptions)
                try await options.withStore(createIfMissing: true) { store in
                    let topic: Topic
                    if store.topicNames.contains(Self.topicName) {
                        topic = try store.topic(Self.topicName)
                    } else {
                        topic = try store.createTopic(Self.topicName, config: TopicConfig(partitionCount: 4, flush: .everyAppend, compression: .zstd(level: 3)))
                    }
                    print("StreamStore demo: store \(options.path), topic \(topic.name) (\(topic.partitionCount) partitions, flush \(TopicSettingsText.flush(topic.config.flush)), compression \(topic.config.compression))")
                    print("")
                    var steps: [DemoStep] = []
                    steps.append(try await Self.appendEvents(count: records, to: topic))
                    print("")
                    steps.append(try await Self.replayPartition(0, of: topic))
                    print("")
                    steps.append(try await Self.rebuildRevenue(store: store, topic: topic))
                    print("")
                    steps.append(try await Self.runBilling(store: store, topic: topic))
                    print("")
                    let sagas = try await Self.runSagas(store: store, orders: sagaOrders)
                    steps.append(sagas.step)
                    let infos = try (0..<topic.partitionCount).map { (index) throws(StreamStoreError) in try topic.info(partition: index) }
                    let stored = infos.reduce(Int64(0)) { $0 + $1.logBytes }
                    let uncompressed = infos.reduce(Int64(0)) { $0 + $1.uncompressedBytes }
                    print("")
                    print(DemoStep.summary(steps), terminator: "")
                    print("")
                    print("On disk: \(Format.bytes(stored)) for \(Format.bytes(uncompressed)) of batches (\(Describe.ratio(uncompressed, stored)) with \(topic.config.compression))")
                    print("")
                    // Commands a reader can paste into the shell that ran the demo, as printed.
                    let tool = Self.toolCommand(store: options.path)
                    print("Look around:")
                    print("  \(tool) describe \(topic.name)")
                    print("  \(tool) replay \(topic.name) --partition 0 --limit 5")
                    print("  \(tool) groups lag \(Self.billingGroup)")
                    print("  \(tool) replay \(topic.name) --group \(Self.billingGroup) --format value --limit 3")
                    print("  \(tool) retention --dry-run")
                    print("  \(tool) trace \(DemoEventGenerator.correlationID(partition: 0, orderNumber: 1))")
                    print("  \(tool) sagas list --state compensated")
                    if let id = sagas.compensated {
                        print("  \(tool) sagas show \(id)")
                        print("  \(tool) trace \(id)")
                    }
                    if let segment = Self.firstSegment(store: options.path, topic: topic.name, partition: 0) {
                        print("  \(tool) dump \(segment) --verify-index | head")
                    }
                }
            }
        }

        /// How to run this tool again from the same shell: `stream-tool` when that name finds
        /// this binary on the `PATH` (after `make install`), else the path it was started by; with
        /// `--store` unless the store is the default one a new shell would use.
        static func toolCommand(store: String) -> String {
            let invoked = CommandLine.arguments.first ?? "stream-tool"
            var command = invoked.contains("/") && !Self.pathFinds("stream-tool", sameAs: invoked) ? invoked : "stream-tool"
            let standard = [StoreOptions.defaultPath, "stream-data", "./stream-data/", "stream-data/"]
            if !standard.contains(store) { command += " --store \(store)" }
            return command
        }

        private static func pathFinds(_ name: String, sameAs binary: String) -> Bool {
            let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            guard let found = folders.map({ "\($0)/\(name)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return false }
            return URL(fileURLWithPath: found).resolvingSymlinksInPath().path == URL(fileURLWithPath: binary).resolvingSymlinksInPath().path
        }

        /// The path of a partition's oldest `.log` file, for the closing hint.
        static func firstSegment(store: String, topic: String, partition: Int) -> String? {
            let folder = "\(store)/\(topic)/\(partition)"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return names.filter { SegmentFilePath("\(folder)/\($0)")?.kind == .log }.min().map { "\(folder)/\($0)" }
        }

        // MARK: Append

        private final class Counters: Sendable {
            let records = Atomic<Int>(0)
            let bytes = Atomic<Int>(0)
            let batches = Atomic<Int>(0)
        }

        private static func appendEvents(count: Int, to topic: Topic) async throws -> DemoStep {
            let partitionCount = topic.partitionCount
            let customers = DemoEventGenerator.customersByPartition(partitionCount: partitionCount)
            let shares = (0..<partitionCount).map { count / partitionCount + ($0 < count % partitionCount ? 1 : 0) }
            let starts = try (0..<partitionCount).map { (partition) throws(StreamStoreError) in try topic.logEndOffset(partition: partition) }
            let tasks = min(taskCount, partitionCount)
            let counters = Counters()
            let stopwatch = Stopwatch()

            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        // Each task owns the partitions task, task + tasks, ...: one writer per partition.
                        var batch = RecordBatch(capacityBytes: 512 * 1024)
                        for partition in stride(from: task, to: partitionCount, by: tasks) {
                            var generator = DemoEventGenerator(partition: partition, customers: customers[partition], firstOrderNumber: starts[partition])
                            var remaining = shares[partition]
                            while remaining > 0 {
                                batch.removeAll()
                                for _ in 0..<min(recordsPerBatch, remaining) { try generator.appendNext(to: &batch) }
                                _ = try await topic.append(batch, partition: partition)
                                remaining -= batch.count
                                counters.records.add(batch.count, ordering: .relaxed)
                                counters.bytes.add(batch.byteCount, ordering: .relaxed)
                                counters.batches.add(1, ordering: .relaxed)
                            }
                        }
                    }
                }
                if StandardError.isTerminal {
                    group.addTask {
                        let progress = ProgressLine()
                        defer { progress.finish() }
                        while counters.records.load(ordering: .relaxed) < count {
                            try await Task.sleep(for: .milliseconds(100))
                            progress.update {
                                let done = counters.records.load(ordering: .relaxed)
                                return "appending: " + ProgressText.count(Int64(done), of: Int64(count), unit: "events", seconds: stopwatch.elapsedSeconds)
                            }
                        }
                    }
                }
                // Rethrows the first failure; the other tasks are then cancelled.
                try await group.waitForAll()
            }
            let seconds = stopwatch.elapsedSeconds
            let records = counters.records.load(ordering: .relaxed)
            let bytes = Int64(counters.bytes.load(ordering: .relaxed))
            print("Appended \(Format.grouped(Int64(records))) events in \(Format.grouped(Int64(counters.batches.load(ordering: .relaxed)))) batches from \(tasks) concurrent tasks")
            print("  \(Format.seconds(seconds)), \(Format.rate(Double(records), seconds: seconds)) records/s, \(Format.megabytesPerSecond(bytes, seconds: seconds)) MB/s")
            return DemoStep(name: "append (\(tasks) tasks, flush \(TopicSettingsText.flush(topic.config.flush)))", records: Int64(records), bytes: bytes, seconds: seconds)
        }

        // MARK: Replay

        /// Reads one partition from its start with the engine's batch replay, counting records:
        /// the fast read path, no object per record.
        private static func replayPartition(_ partition: Int, of topic: Topic) async throws -> DemoStep {
            let stopwatch = Stopwatch()
            var records = 0
            var bytes: Int64 = 0
            for try await batch in topic.replayBatches(partitions: [partition]) {
                try batch.forEachRecord { _ in records += 1 }
                bytes += Int64(batch.byteCount)
            }
            let seconds = stopwatch.elapsedSeconds
            print("Replayed partition \(partition): \(Format.grouped(Int64(records))) records (every run's)")
            print("  \(Format.seconds(seconds)), \(Format.rate(Double(records), seconds: seconds)) records/s, \(Format.megabytesPerSecond(bytes, seconds: seconds)) MB/s")
            return DemoStep(name: "replay partition \(partition)", records: Int64(records), bytes: bytes, seconds: seconds)
        }
    }
}

/// One step of the demo and how fast it went, for the closing summary.
struct DemoStep {
    var name: String
    var records: Int64
    /// Bytes of batches written or read, when the step measures them.
    var bytes: Int64?
    var seconds: Double

    /// The table of every step's throughput.
    static func summary(_ steps: [DemoStep]) -> String {
        var table = TextTable([("STEP", .left), ("EVENTS", .right), ("TIME", .right), ("EVENTS/S", .right), ("MB/S", .right)])
        for step in steps {
            table.add([
                step.name, Format.grouped(step.records), Format.seconds(step.seconds), Format.rate(Double(step.records), seconds: step.seconds),
                step.bytes.map { Format.megabytesPerSecond($0, seconds: step.seconds) } ?? "-",
            ])
        }
        return table.render()
    }
}
