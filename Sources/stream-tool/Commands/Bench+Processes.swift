import ArgumentParser
import Foundation
import StreamStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension StreamTool {
    /// `stream-tool bench processes`: the store shared by a writer process and reader processes.
    struct BenchProcesses: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "processes",
            abstract: "A writer and reader processes on one store: tail latency and throughput ratios.",
            discussion: """
                Three measurements, each with reader processes this command starts (itself, read-only): \
                the latency from an append in this process to a tailing reader process seeing the \
                record (p50/p99/p99.9, one record at a time, beside the same measured with a reader \
                in this process); a reader process's batch-level replay of --records records while \
                this process appends at full speed, as a ratio of the same replay with no writer; \
                and this process's append rate with --readers tailing reader processes, as a ratio \
                of the rate with none. Each ratio is the median of --rounds rounds.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions
        @Option(help: ArgumentHelp("Records replayed and appended in each throughput round.", valueName: "N"))
        var records: Int = 2_000_000
        @Option(name: .customLong("latency-records"), help: ArgumentHelp("Records sent one at a time for the latency measurement.", valueName: "N"))
        var latencyRecords: Int = 20_000
        @Option(help: ArgumentHelp("Tailing reader processes while the writer's rate is measured.", valueName: "R"))
        var readers: Int = 3
        @Option(help: ArgumentHelp("Rounds of each throughput measurement.", valueName: "K"))
        var rounds: Int = 3
        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            guard records > 0, latencyRecords > 0, readers > 0, rounds > 0 else {
                throw ValidationError("--records, --latency-records, --readers and --rounds must be positive.")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let store = BenchStore(storeOptions: storeOptions, parent: root.storeOptions)
                let result = try await ProcessesBench(
                    storeOptions: store.options, isTemporary: store.isTemporary, records: records, latencyRecords: latencyRecords,
                    readers: readers, rounds: rounds
                ).run()
                print(json ? result.json : result.text)
            }
        }
    }

    /// The reader side of `bench processes`, run by it in child processes: not for people.
    struct BenchReaderProcess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reader-process", abstract: "The reader process of bench processes (internal).", shouldDisplay: false)

        enum Mode: String, ExpressibleByArgument { case latency, replay, tail }

        @OptionGroup(title: "Store options") var storeOptions: StoreOptions
        @Option var topic: String
        @Option var mode: Mode
        @Option var count: Int

        func run() async throws {
            try await reportingErrors {
                let store = try storeOptions.openReadOnlyStore()
                defer { try? store.close() }
                let topic = try store.topic(self.topic)
                // The end as of "ready": records the writer appends after it are all seen.
                let start: StartPosition = mode == .replay ? .beginning : .offset(try topic.logEndOffset(partition: 0))
                let replay = topic.replayBatches(partitions: [0], options: ReplayOptions(from: start, follow: mode != .replay))
                var latencies: [Int64] = []
                if mode == .latency { latencies.reserveCapacity(count) }
                FileHandle.standardOutput.write(Data("ready\n".utf8))
                let clock = ContinuousClock.now
                let cpuBefore = processCPUSeconds()
                var seen = 0
                loop: for try await batch in replay {
                    if mode == .latency {
                        let now = Int64(bitPattern: DispatchTime.now().uptimeNanoseconds)
                        try batch.forEachRecord { record in
                            guard let value = record.value, value.count >= 8 else { return }
                            let sent = value.loadUnaligned(as: Int64.self)
                            latencies.append(now - sent)
                        }
                    }
                    seen += batch.recordCount
                    if seen >= count { break loop }
                }
                let seconds = (ContinuousClock.now - clock).seconds
                latencies.sort()
                func percentile(_ fraction: Double) -> Int64 {
                    latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]
                }
                let cpuSeconds = processCPUSeconds() - cpuBefore
                print("result \(seen) \(seconds) \(percentile(0.5)) \(percentile(0.99)) \(percentile(0.999)) \(latencies.last ?? 0) \(cpuSeconds)")
            }
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
