import ArgumentParser
import Foundation
import StreamStore
import Synchronization

extension StreamTool {
    /// `stream-tool demo`: fills a store with realistic events and reads them back, to show what
    /// the store does and how fast (the main job of `make run`).
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill the store with sample order events, replay them, rebuild a projection.",
            discussion: """
                Creates topic orders (4 partitions, flush always) unless it exists, then appends \
                order-placed, payment-settled and order-shipped events (JSON, keyed by customer, \
                with event-type, correlation-id and message-id headers) in batches of 1,000 from \
                4 concurrent tasks. It then replays partition 0, rebuilds revenue per customer \
                from every order-placed event in the topic, and prints the top 5 customers and \
                the throughput of each step. Running it again appends more.
                """)

        static let topicName = "orders"
        static let recordsPerBatch = 1000
        static let taskCount = 4

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Option(help: ArgumentHelp("How many events to append.", valueName: "N"))
        var records: Int = 200_000

        func validate() throws {
            guard records >= 0 else { throw ValidationError("--records must not be negative.") }
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
                    print("StreamStore demo: store \(options.path), topic \(topic.name) (\(topic.partitionCount) partitions, flush \(Create.spelling(topic.config.flush)), compression \(topic.config.compression))")
                    print("")
                    try await Self.appendEvents(count: records, to: topic)
                    try Self.replayPartition(0, of: topic)
                    try Self.rebuildRevenue(of: topic)
                    let infos = try (0..<topic.partitionCount).map { (index) throws(StreamStoreError) in try topic.info(partition: index) }
                    let stored = infos.reduce(Int64(0)) { $0 + $1.logBytes }
                    let uncompressed = infos.reduce(Int64(0)) { $0 + $1.uncompressedBytes }
                    print("")
                    print("On disk: \(Format.bytes(stored)) for \(Format.bytes(uncompressed)) of batches (\(Describe.ratio(uncompressed, stored)) with \(topic.config.compression))")
                    print("")
                    print("Look around: stream-tool describe \(topic.name); stream-tool replay \(topic.name) --partition 0 --limit 5")
                    if let segment = Self.firstSegment(store: options.path, topic: topic.name, partition: 0) {
                        print("Look inside a segment: stream-tool dump \(segment) --verify-index | head")
                    }
                }
            }
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

        private static func appendEvents(count: Int, to topic: Topic) async throws {
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
        }

        // MARK: Replay

        /// Reads one partition from its start, counting records: the raw read path.
        private static func replayPartition(_ partition: Int, of topic: Topic) throws {
            let stopwatch = Stopwatch()
            var records = 0
            var bytes: Int64 = 0
            try forEachBatch(of: topic, partition: partition) { batch in
                try batch.forEachRecord(from: 0) { _ in records += 1 }
                bytes += Int64(batch.byteCount)
            }
            let seconds = stopwatch.elapsedSeconds
            print("Replayed partition \(partition): \(Format.grouped(Int64(records))) records (every run's)")
            print("  \(Format.seconds(seconds)), \(Format.rate(Double(records), seconds: seconds)) records/s, \(Format.megabytesPerSecond(bytes, seconds: seconds)) MB/s")
        }

        private static func forEachBatch(of topic: Topic, partition: Int, _ body: (StoredBatch) throws -> Void) throws {
            var next = try topic.logStartOffset(partition: partition)
            let end = try topic.logEndOffset(partition: partition)
            while next < end {
                let batches = try topic.readBatches(partition: partition, from: next, maxBytes: 4 << 20)
                guard let last = batches.last else { break }
                for batch in batches { try body(batch) }
                next = last.nextOffset
            }
        }

        // MARK: Projection

        /// Revenue per customer from every order-placed event: the state a service would rebuild
        /// after a bug, by replaying its log.
        private static func rebuildRevenue(of topic: Topic) throws {
            let stopwatch = Stopwatch()
            var totals: [String: (orders: Int, cents: Int64)] = [:]
            var records = 0
            var bytes: Int64 = 0
            let placed = Array("order-placed".utf8)
            for partition in 0..<topic.partitionCount {
                try forEachBatch(of: topic, partition: partition) { batch in
                    bytes += Int64(batch.byteCount)
                    try batch.forEachRecord(from: 0) { record in
                        records += 1
                        guard let key = record.key, let value = record.value,
                            record.headers.contains(where: { $0.key == "event-type" && $0.value == placed }),
                            let cents = amountCents(in: value)
                        else { return }
                        let customer = String(decoding: key, as: UTF8.self)
                        totals[customer, default: (0, 0)].orders += 1
                        totals[customer, default: (0, 0)].cents += cents
                    }
                }
            }
            let seconds = stopwatch.elapsedSeconds
            print("Rebuilt revenue per customer from \(Format.grouped(Int64(records))) events of \(topic.partitionCount) partitions")
            print("  \(Format.seconds(seconds)), \(Format.rate(Double(records), seconds: seconds)) records/s, \(Format.megabytesPerSecond(bytes, seconds: seconds)) MB/s")
            let top = totals.sorted { $0.value.cents != $1.value.cents ? $0.value.cents > $1.value.cents : $0.key < $1.key }.prefix(5)
            guard !top.isEmpty else { return }
            print("")
            var table = TextTable([("TOP CUSTOMERS", .left), ("ORDERS", .right), ("REVENUE", .right)])
            for (customer, total) in top {
                table.add([customer, String(total.orders), euros(total.cents)])
            }
            print(table.render(indent: "  "), terminator: "")
        }

        /// The number after `"amountCents":` in a JSON value, without parsing the whole value.
        static func amountCents(in value: UnsafeRawBufferPointer) -> Int64? {
            let needle = Array("\"amountCents\":".utf8)
            guard value.count > needle.count else { return nil }
            var index = 0
            while index + needle.count < value.count {
                if value[index] == needle[0] && zip(needle.indices, needle).allSatisfy({ value[index + $0] == $1 }) {
                    var cursor = index + needle.count
                    var amount: Int64 = 0
                    var sawDigit = false
                    while cursor < value.count, value[cursor] >= UInt8(ascii: "0"), value[cursor] <= UInt8(ascii: "9"), amount < Int64.max / 10 - 10 {
                        amount = amount * 10 + Int64(value[cursor] - UInt8(ascii: "0"))
                        cursor += 1
                        sawDigit = true
                    }
                    return sawDigit ? amount : nil
                }
                index += 1
            }
            return nil
        }

        private static func euros(_ cents: Int64) -> String {
            let fraction = String(cents % 100)
            return "EUR \(Format.grouped(cents / 100)).\(fraction.count == 1 ? "0" : "")\(fraction)"
        }
    }
}
