import ArgumentParser
import Foundation
import StreamStore

extension StreamTool {
    /// `stream-tool bench consume`: what each commit choice of a ``Consumer`` costs.
    struct BenchConsume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "consume",
            abstract: "A consumer's records/s under each commit policy, in the same run.",
            discussion: """
                Fills a topic of --partitions partitions with --records records of --record-bytes \
                (flush policy --flush, which commits follow too), then consumes all of it with \
                records(until: .end) once per commit choice, each as a new consumer group: no \
                commits; commit(record) after every record; commit(record) every 1,000 records; \
                CommitPolicy.automatic every 1,000 records; automatic every 100 ms; automatic at \
                the end of each read. Reports records/s of each, median of --rounds rounds.
                """)

        @Option(help: ArgumentHelp("Records in the topic.", valueName: "N"))
        var records: Int = 200_000
        @Option(name: .customLong("record-bytes"), help: ArgumentHelp("Value bytes per record.", valueName: "B"))
        var recordBytes: Int = 100
        @Option(help: ArgumentHelp("Partitions of the topic.", valueName: "P"))
        var partitions: Int = 4
        @Option(help: "When appends and commits are fsynced: never or always.")
        var flush: BenchOptions.Flush = .always
        @Option(help: ArgumentHelp("Rounds; the median is reported.", valueName: "K"))
        var rounds: Int = 3

        func validate() throws {
            guard records > 0, recordBytes >= 0, partitions > 0, rounds > 0 else {
                throw ValidationError("--records, --partitions and --rounds must be positive, --record-bytes not negative.")
            }
        }

        private enum Choice: CaseIterable {
            case none, everyRecord, manualEvery1000, automaticEvery1000, automaticEvery100ms, automaticEndOfRead

            var name: String {
                switch self {
                case .none: return "no commits"
                case .everyRecord: return "commit(record) every record"
                case .manualEvery1000: return "commit(record) every 1,000"
                case .automaticEvery1000: return "automatic, every 1,000 records"
                case .automaticEvery100ms: return "automatic, every 100 ms"
                case .automaticEndOfRead: return "automatic, end of each read"
                }
            }

            var policy: CommitPolicy {
                switch self {
                case .none, .everyRecord, .manualEvery1000: return .manual
                case .automaticEvery1000: return .automatic(everyRecords: 1_000, everyMilliseconds: nil)
                case .automaticEvery100ms: return .automatic(everyRecords: nil, everyMilliseconds: 100)
                case .automaticEndOfRead: return .automatic(everyRecords: nil, everyMilliseconds: nil, atEndOfRead: true)
                }
            }
        }

        func run() async throws {
            try await reportingErrors {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stream-tool-bench-\(UUID().uuidString)").path
                defer { try? FileManager.default.removeItem(atPath: folder) }
                let store = try Store.open(at: folder, options: Store.Options(retentionCheckMilliseconds: nil))
                defer { try? store.close() }
                let topic = try store.createTopic("bench", config: TopicConfig(partitionCount: partitions, flush: flush.policy))
                let value = [UInt8](repeating: 0x61, count: recordBytes)
                let count = records
                for start in stride(from: 0, to: count, by: 1000) {
                    _ = try await topic.append((start..<min(start + 1000, count)).map { Record(key: Array("customer-\($0 % 1024)".utf8), value: value) })
                }
                var rates: [String: [Double]] = [:]
                for round in 0..<rounds {
                    for choice in Choice.allCases {
                        let consumer = try store.consumer(
                            group: "bench-\(round)-\(choice)", topic: topic.name, options: ConsumerOptions(commitPolicy: choice.policy))
                        let stopwatch = Stopwatch()
                        var seen = 0
                        for try await record in consumer.records(until: .end) {
                            seen += 1
                            switch choice {
                            case .everyRecord: try await consumer.commit(record)
                            case .manualEvery1000 where seen % 1000 == 0: try await consumer.commit(record)
                            default: break
                            }
                        }
                        rates[choice.name, default: []].append(Double(seen) / stopwatch.elapsedSeconds)
                        consumer.close()
                        guard seen == count else { throw ToolError("The \(choice.name) consumer saw \(seen) of \(count) records.") }
                    }
                }
                print("\(count) records of \(recordBytes) B, \(partitions) partitions, flush \(flush.rawValue), median of \(rounds) rounds")
                for choice in Choice.allCases { print(benchRateLine(choice.name, rates[choice.name] ?? [])) }
            }
        }
    }
}
