import ArgumentParser
import Foundation
import StreamStore
import StreamStoreMessaging

extension StreamTool {
    /// `stream-tool bench request-reply`: the round trip of a command and its reply, in one
    /// process and between two.
    struct BenchRequestReply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "request-reply",
            abstract: "Time request-reply round trips in one process and between two.",
            discussion: """
                Runs in a fresh temporary folder. One request at a time (each sent once the \
                previous reply came), --requests of them, after --requests / 10 untimed ones; \
                reported: p50, p99, p99.9 and max of the round trip (send, responder's handling, \
                reply durable, reply seen) and requests/s. Then --requests again with \
                --concurrency requests in flight, for the throughput.

                In one process the requester and the responder share a store. Between two \
                processes each writes a store of its own (one process writes a store): this \
                process writes the commands, a second one (this program again) reads them \
                read-only and writes the replies to its store, which this process reads \
                read-only. --flush sets the topics' flush policy (always: each append and each \
                group commit fsynced).
                """)

        @Option(help: ArgumentHelp("Requests timed one at a time, and again concurrently.", valueName: "N"))
        var requests = 2_000
        @Option(help: ArgumentHelp("Requests in flight for the throughput run.", valueName: "C"))
        var concurrency = 64
        @Option(help: "When appends are fsynced: never or always (each append, group commit).")
        var flush: BenchOptions.Flush = .always
        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            guard requests > 0, (1...Limits.maxConcurrentCommands).contains(concurrency) else {
                throw ValidationError("--requests must be positive and --concurrency 1 to \(Limits.maxConcurrentCommands).")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let folder = NSTemporaryDirectory() + "stream-tool-bench-rr-\(UUID().uuidString)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: folder) }
                let inProcess = try await RequestReplyBench(folder: folder + "/one", flush: flush.policy, requests: requests, concurrency: concurrency).inProcess()
                let twoProcesses = try await RequestReplyBench(folder: folder + "/two", flush: flush.policy, requests: requests, concurrency: concurrency).twoProcesses()
                if json {
                    print("{\"flush\":\"\(flush.rawValue)\",\"requests\":\(requests),\"concurrency\":\(concurrency),\"inProcess\":\(inProcess.json),\"twoProcesses\":\(twoProcesses.json)}")
                } else {
                    print("Request-reply, \(Format.grouped(Int64(requests))) requests, flush \(flush.rawValue)")
                    var report = BenchReport()
                    for (name, result) in [("in-process", inProcess), ("two processes", twoProcesses)] {
                        report.addLatencies("\(name) round trip", result.latency, unit: "ms", digits: 3, note: "one request at a time")
                        report.add("\(name) sequential", Format.rate(result.sequentialRate, seconds: 1), "requests/s")
                        report.add("\(name) \(concurrency) in flight", Format.rate(result.concurrentRate, seconds: 1), "requests/s")
                    }
                    print(report.render())
                }
            }
        }
    }

    /// The responder of `bench request-reply`'s two-process run: not for people.
    struct BenchResponderProcess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "responder-process", abstract: "The responder process of bench request-reply (internal).", shouldDisplay: false)

        @Option(name: .customLong("commands-store")) var commandsStore: String
        @Option(name: .customLong("replies-store")) var repliesStore: String
        @Option var flush: BenchOptions.Flush

        func run() async throws {
            try await reportingErrors {
                let replies = try Store.open(at: repliesStore)
                _ = try replies.createTopic(RequestReplyBench.replyTopic, config: TopicConfig(partitionCount: 1, flush: flush.policy, dedupeWindowMilliseconds: 3_600_000))
                let commands = try Store.open(at: commandsStore, options: Store.Options(mode: .readOnly))
                let responder = try Responder(
                    store: commands, group: "bench-responder", commandTopic: RequestReplyBench.commandTopic, replyStore: replies,
                    options: Responder.Options(maxConcurrentCommands: 256))
                FileHandle.standardOutput.write(Data("ready\n".utf8))
                // Ends when its parent closes the pipe it reads: stdin at end of file.
                let answering = Task { try await responder.run { command in Reply(value: command.value.map(Array.init)) } }
                _ = try? await onThread { FileHandle.standardInput.readDataToEndOfFile() }
                answering.cancel()
                _ = await answering.result
                try? commands.close()
                try replies.close()
            }
        }
    }

    /// `stream-tool bench sagas`: completed sagas per second for the demo's order saga.
    struct BenchSagas: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sagas",
            abstract: "Time the demo's 3-step order saga: sagas/s.",
            discussion: """
                Runs in a fresh temporary folder, per round: --sagas order sagas started at once \
                (reserve stock, charge payment, ship; every fifth payment declined and its stock \
                released), the participants answering as responders in this process; timed from \
                the first start to the last saga's end. Reports the median of --rounds rounds of \
                sagas/s, and how many completed and compensated. --flush sets every topic's flush \
                policy.
                """)

        @Option(help: ArgumentHelp("Sagas per round.", valueName: "N"))
        var sagas = 2_000
        @Option(help: ArgumentHelp("Rounds; the median is reported.", valueName: "K"))
        var rounds = 3
        @Option(help: "When appends are fsynced: never or always (each append, group commit).")
        var flush: BenchOptions.Flush = .always
        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            guard sagas > 0, rounds > 0 else { throw ValidationError("--sagas and --rounds must be positive.") }
        }

        func run() async throws {
            try await reportingErrors {
                var rates: [Double] = []
                var last = OrderSagaExample.Outcome()
                for round in 0..<rounds {
                    let folder = NSTemporaryDirectory() + "stream-tool-bench-sagas-\(UUID().uuidString)"
                    defer { try? FileManager.default.removeItem(atPath: folder) }
                    let store = try Store.open(at: folder)
                    let example = try OrderSagaExample(store: store, flush: flush.policy)
                    if flush == .never {
                        for topic in [example.definition.sagaTopic, example.definition.replyTopic] where !store.topicNames.contains(topic) {
                            _ = try store.createTopic(topic, config: TopicConfig(partitionCount: 1, flush: .never, dedupeWindowMilliseconds: 3_600_000))
                        }
                    }
                    last = try await example.run(orders: sagas, idPrefix: "bench-\(round)")
                    try store.close()
                    rates.append(Double(sagas) / max(last.seconds, 1e-9))
                }
                let median = rates.sorted()[rates.count / 2]
                if json {
                    print("{\"flush\":\"\(flush.rawValue)\",\"sagas\":\(sagas),\"rounds\":\(rounds),\"sagasPerSecond\":\(Format.fixed(median, digits: 1)),\"completed\":\(last.completed),\"compensated\":\(last.compensated),\"failed\":\(last.failed)}")
                } else {
                    print("Order sagas (3 steps), \(Format.grouped(Int64(sagas))) per round, flush \(flush.rawValue), median of \(rounds)")
                    var report = BenchReport()
                    report.add("sagas", Format.rate(median, seconds: 1), "sagas/s")
                    report.add("completed / compensated", "\(last.completed) / \(last.compensated)", "(last round)")
                    print(report.render())
                }
            }
        }
    }
}

/// The two halves of `bench request-reply`.
struct RequestReplyBench {
    static let commandTopic = "commands"
    static let replyTopic = "replies"

    struct Result {
        var latency: BenchPercentiles
        var sequentialRate: Double
        var concurrentRate: Double

        var json: String {
            "{\"roundTripMilliseconds\":\(latency.json(digits: 3)),\"sequentialPerSecond\":\(Format.fixed(sequentialRate, digits: 1)),\"concurrentPerSecond\":\(Format.fixed(concurrentRate, digits: 1))}"
        }
    }

    let folder: String
    let flush: FlushPolicy
    let requests: Int
    let concurrency: Int

    func inProcess() async throws -> Result {
        let store = try Store.open(at: folder)
        defer { try? store.close() }
        _ = try store.createTopic(Self.commandTopic, config: TopicConfig(partitionCount: 1, flush: flush))
        _ = try store.createTopic(Self.replyTopic, config: TopicConfig(partitionCount: 1, flush: flush, dedupeWindowMilliseconds: 3_600_000))
        let responder = try Responder(store: store, group: "bench-responder", commandTopic: Self.commandTopic, options: Responder.Options(maxConcurrentCommands: 256))
        let answering = Task { try await responder.run { command in Reply(value: command.value.map(Array.init)) } }
        defer { answering.cancel() }
        let requester = try Requester(store: store, options: Requester.Options(replyTopic: Self.replyTopic))
        let result = try await measure(requester)
        await requester.close()
        return result
    }

    func twoProcesses() async throws -> Result {
        let commandsPath = folder + "-commands"
        let repliesPath = folder + "-replies"
        defer {
            try? FileManager.default.removeItem(atPath: commandsPath)
            try? FileManager.default.removeItem(atPath: repliesPath)
        }
        let store = try Store.open(at: commandsPath)
        defer { try? store.close() }
        _ = try store.createTopic(Self.commandTopic, config: TopicConfig(partitionCount: 1, flush: flush))
        let input = Pipe()
        let child = try ReaderChild(arguments: [
            "bench", "responder-process", "--commands-store", commandsPath, "--replies-store", repliesPath,
            "--flush", flush == .never ? "never" : "always",
        ], standardInput: input)
        defer {
            try? input.fileHandleForWriting.close()
            child.end()
        }
        try await onThread { try child.waitForReady() }
        let replies = try Store.open(at: repliesPath, options: Store.Options(mode: .readOnly))
        defer { try? replies.close() }
        let requester = try Requester(store: store, replyStore: replies, options: Requester.Options(replyTopic: Self.replyTopic))
        let result = try await measure(requester)
        await requester.close()
        return result
    }

    private func measure(_ requester: Requester) async throws -> Result {
        let payload = Record(value: String(repeating: "x", count: 100))
        for _ in 0..<max(1, requests / 10) { _ = try await requester.request(payload, to: Self.commandTopic, timeout: .seconds(60)) }
        var samples: [Int64] = []
        samples.reserveCapacity(requests)
        let clock = ContinuousClock()
        let started = clock.now
        for _ in 0..<requests {
            let sent = DispatchTime.now().uptimeNanoseconds
            _ = try await requester.request(payload, to: Self.commandTopic, timeout: .seconds(60))
            samples.append(Int64(DispatchTime.now().uptimeNanoseconds - sent))
        }
        let sequentialSeconds = (clock.now - started).seconds
        let concurrentStart = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for _ in stride(from: worker, to: requests, by: concurrency) {
                        _ = try await requester.request(payload, to: Self.commandTopic, timeout: .seconds(60))
                    }
                }
            }
            try await group.waitForAll()
        }
        let concurrentSeconds = (clock.now - concurrentStart).seconds
        return Result(
            latency: BenchPercentiles(samples, scale: 1e-6), sequentialRate: Double(requests) / max(sequentialSeconds, 1e-9),
            concurrentRate: Double(requests) / max(concurrentSeconds, 1e-9))
    }
}
