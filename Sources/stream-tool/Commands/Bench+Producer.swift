import ArgumentParser
import Foundation
import StreamStore

extension StreamTool {
    /// `stream-tool bench producer`: the idempotent ``Producer`` against `Topic.append([Record])`,
    /// in the same run, on fresh topics of one temporary store.
    struct BenchProducer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "producer",
            abstract: "Producer.send (one record at a time, batched by the producer) vs Topic.append([Record]).",
            discussion: """
                Appends --records keyed records of --record-bytes to a topic of --partitions \
                partitions, three ways, each on a fresh topic of one temporary store: one task \
                calling Producer.send per record (the producer batches per partition and appends \
                the partitions concurrently), Producer.send of --batch-records records at a time, \
                and Topic.append of --batch-records records at a time (one batch per partition \
                per call). Reports records/s of each, median of --rounds rounds, for the flush \
                policy given.
                """)

        @Option(help: ArgumentHelp("Records per workload and round.", valueName: "N"))
        var records: Int = 1_000_000
        @Option(name: .customLong("record-bytes"), help: ArgumentHelp("Value bytes per record.", valueName: "B"))
        var recordBytes: Int = 100
        @Option(name: .customLong("batch-records"), help: ArgumentHelp("Records per send([Record]) or append([Record]) call.", valueName: "K"))
        var batchRecords: Int = 1000
        @Option(help: ArgumentHelp("Partitions of the topic.", valueName: "P"))
        var partitions: Int = 4
        @Option(help: "When appends are fsynced: never or always.")
        var flush: BenchOptions.Flush = .never
        @Option(help: ArgumentHelp("Rounds; the median is reported.", valueName: "K"))
        var rounds: Int = 3

        func validate() throws {
            guard records > 0, recordBytes >= 0, batchRecords > 0, partitions > 0, rounds > 0 else {
                throw ValidationError("--records, --batch-records, --partitions and --rounds must be positive, --record-bytes not negative.")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stream-tool-bench-\(UUID().uuidString)").path
                defer { try? FileManager.default.removeItem(atPath: folder) }
                let store = try Store.open(at: folder, options: Store.Options(retentionCheckMilliseconds: nil))
                defer { try? store.close() }
                let (count, batchRecords) = (records, batchRecords)
                let value = [UInt8](repeating: 0x61, count: recordBytes)
                let keys = (0..<1024).map { Array("customer-\($0)".utf8) }
                let records = (0..<count).map { Record(key: keys[$0 % keys.count], value: value) }
                let config = TopicConfig(partitionCount: partitions, flush: flush.policy)
                var rates: [String: [Double]] = [:]
                let workloads = ["producer send (1 at a time)", "producer send (\(batchRecords) at a time)", "topic append (\(batchRecords) at a time)"]
                for round in 0..<rounds {
                    for (index, name) in workloads.enumerated() {
                        let topic = try store.createTopic("bench-\(round)-\(index)", config: config)
                        let stopwatch = Stopwatch()
                        switch index {
                        case 0:
                            let producer = try store.producer(for: topic.name)
                            for record in records { _ = try await producer.send(record) }
                            try await producer.close()
                        case 1:
                            let producer = try store.producer(for: topic.name)
                            for start in stride(from: 0, to: count, by: batchRecords) {
                                _ = try await producer.send(Array(records[start..<min(start + batchRecords, count)]))
                            }
                            try await producer.close()
                        default:
                            for start in stride(from: 0, to: count, by: batchRecords) {
                                _ = try await topic.append(Array(records[start..<min(start + batchRecords, count)]))
                            }
                        }
                        rates[name, default: []].append(Double(count) / stopwatch.elapsedSeconds)
                    }
                }
                print("\(count) records of \(recordBytes) B, \(partitions) partitions, flush \(flush.rawValue), median of \(rounds) rounds")
                for name in workloads { print(benchRateLine(name, rates[name] ?? [])) }
            }
        }
    }
}

/// `  name               1,234,567 records/s`: the median of a bench's rounds.
func benchRateLine(_ name: String, _ rates: [Double]) -> String {
    let sorted = rates.sorted()
    let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    let padded = name.padding(toLength: 34, withPad: " ", startingAt: 0)
    return "  " + padded + " " + Format.count(Int64(median), "record") + "/s"
}
