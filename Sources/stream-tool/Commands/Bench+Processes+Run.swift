import Foundation
import StreamStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The measurements of `bench processes` (see its help): this process writes, child processes
/// of this same executable read the store read-only.
struct ProcessesBench {
    let storeOptions: StoreOptions
    let isTemporary: Bool
    let records: Int
    let latencyRecords: Int
    let readers: Int
    let rounds: Int
    static let recordBytes = 100
    static let batchRecords = 1000
    /// The pace of the latency measurement: one record per this many nanoseconds, far above the
    /// latency, so records never queue behind each other.
    static let latencyPaceNanoseconds: UInt64 = 200_000

    struct Latency {
        var p50: Int64, p99: Int64, p999: Int64, max: Int64
    }

    struct Result {
        var crossProcess: Latency
        var inProcess: Latency
        var replayAlone: [Double], replayBesideWriter: [Double]
        var appendAlone: [Double], appendBesideReaders: [Double]
        var readers: Int
        /// Cores busy (CPU seconds per second of the run) in the rounds with tailing readers:
        /// the writer process, and all reader processes together. On a machine with few cores
        /// the readers' work is taken from the writer's share, which bounds the append ratio.
        var writerCores: [Double] = [], readerCores: [Double] = []

        static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }

        var replayRatio: Double { Self.median(replayBesideWriter) / max(Self.median(replayAlone), 1) }
        var appendRatio: Double { Self.median(appendBesideReaders) / max(Self.median(appendAlone), 1) }

        var text: String {
            func micro(_ nanoseconds: Int64) -> String { String(format: "%.1f µs", Double(nanoseconds) / 1000) }
            func rate(_ value: Double) -> String { Format.grouped(Int64(value)) + " records/s" }
            return """
                append -> tail latency, reader in another process   p50 \(micro(crossProcess.p50))  p99 \(micro(crossProcess.p99))  p99.9 \(micro(crossProcess.p999))  max \(micro(crossProcess.max))
                append -> tail latency, reader in this process      p50 \(micro(inProcess.p50))  p99 \(micro(inProcess.p99))  p99.9 \(micro(inProcess.p999))  max \(micro(inProcess.max))
                reader process replay, no writer                    \(rate(Self.median(replayAlone)))  (median of \(replayAlone.count))
                reader process replay, writer at full speed         \(rate(Self.median(replayBesideWriter)))  ratio \(String(format: "%.2f", replayRatio))
                writer append, no readers                           \(rate(Self.median(appendAlone)))  (median of \(appendAlone.count))
                writer append, \(readers) tailing reader processes          \(rate(Self.median(appendBesideReaders)))  ratio \(String(format: "%.2f", appendRatio))
                  cores busy meanwhile: writer \(String(format: "%.2f", Self.median(writerCores))), readers \(String(format: "%.2f", Self.median(readerCores))) (of \(ProcessInfo.processInfo.activeProcessorCount))
                """
        }

        var json: String {
            func object(_ latency: Latency) -> String {
                "{\"p50Nanoseconds\":\(latency.p50),\"p99Nanoseconds\":\(latency.p99),\"p999Nanoseconds\":\(latency.p999),\"maxNanoseconds\":\(latency.max)}"
            }
            func list(_ values: [Double]) -> String { "[" + values.map { String(Int64($0)) }.joined(separator: ",") + "]" }
            return "{\"crossProcessLatency\":\(object(crossProcess)),\"inProcessLatency\":\(object(inProcess)),"
                + "\"replayAloneRecordsPerSecond\":\(list(replayAlone)),\"replayBesideWriterRecordsPerSecond\":\(list(replayBesideWriter)),"
                + "\"replayRatio\":\(String(format: "%.3f", replayRatio)),\"appendAloneRecordsPerSecond\":\(list(appendAlone)),"
                + "\"appendBesideReadersRecordsPerSecond\":\(list(appendBesideReaders)),\"appendRatio\":\(String(format: "%.3f", appendRatio)),\"readers\":\(readers),"
                + "\"writerCores\":\(Self.median(writerCores)),\"readerCores\":\(Self.median(readerCores)),\"cores\":\(ProcessInfo.processInfo.activeProcessorCount)}"
        }
    }

    func run() async throws -> Result {
        defer { if isTemporary { try? FileManager.default.removeItem(atPath: storeOptions.path) } }
        return try await storeOptions.withStore(createIfMissing: true) { store in
            let topic = try store.createTopic("bench-processes-\(UUID().uuidString.lowercased())", config: TopicConfig(flush: .never))
            let crossProcess = try await latency(topic, crossProcess: true)
            let inProcess = try await latency(topic, crossProcess: false)
            var result = Result(
                crossProcess: crossProcess, inProcess: inProcess, replayAlone: [], replayBesideWriter: [], appendAlone: [], appendBesideReaders: [],
                readers: readers)
            let replayed = try await fill(topic, count: records)
            _ = replayed
            for _ in 0..<rounds {
                result.replayAlone.append(try await replayRate(topic, writing: false))
                result.replayBesideWriter.append(try await replayRate(topic, writing: true))
                result.appendAlone.append(try await appendRate(topic, readerCount: 0).rate)
                let beside = try await appendRate(topic, readerCount: readers)
                result.appendBesideReaders.append(beside.rate)
                result.writerCores.append(beside.writerCores)
                result.readerCores.append(beside.readerCores)
            }
            return result
        }
    }

    // MARK: Measurements

    /// One record at a time, stamped with the monotonic clock (the same in every process), timed
    /// until a tailing reader sees it.
    private func latency(_ topic: Topic, crossProcess: Bool) async throws -> Latency {
        let reader: Task<Latency, any Error>
        let child: ReaderChild?
        if crossProcess {
            let started = try ReaderChild(storePath: storeOptions.path, topic: topic.name, mode: "latency", count: latencyRecords)
            try await onThread { try started.waitForReady() }
            child = started
            reader = Task { try await onThread { try started.result().latency } }
        } else {
            child = nil
            let count = latencyRecords
            let replay = topic.replayBatches(partitions: [0], options: ReplayOptions(from: .offset(try topic.logEndOffset(partition: 0)), follow: true))
            reader = Task { try await Self.inProcessLatencies(replay, count: count) }
        }
        var value = [UInt8](repeating: UInt8(ascii: "x"), count: Self.recordBytes)
        for _ in 0..<latencyRecords {
            let sent = DispatchTime.now().uptimeNanoseconds
            withUnsafeBytes(of: Int64(bitPattern: sent)) { stamp in value.replaceSubrange(0..<8, with: stamp) }
            var batch = RecordBatch()
            try batch.append(key: nil, value: value)
            _ = try await topic.append(batch, partition: 0)
            // Sleep, not spin: on a small machine a spinning writer would take the reader's core.
            let spent = DispatchTime.now().uptimeNanoseconds - sent
            if spent < Self.latencyPaceNanoseconds { try await Task.sleep(for: .nanoseconds(Int(Self.latencyPaceNanoseconds - spent))) }
        }
        defer { child?.end() }
        return try await reader.value
    }

    private static func inProcessLatencies(_ replay: BatchReplay, count: Int) async throws -> Latency {
        var latencies: [Int64] = []
        latencies.reserveCapacity(count)
        for try await batch in replay {
            let now = Int64(bitPattern: DispatchTime.now().uptimeNanoseconds)
            try batch.forEachRecord { record in
                guard let value = record.value, value.count >= 8 else { return }
                latencies.append(now - value.loadUnaligned(as: Int64.self))
            }
            if latencies.count >= count { break }
        }
        latencies.sort()
        func at(_ fraction: Double) -> Int64 { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))] }
        return Latency(p50: at(0.5), p99: at(0.99), p999: at(0.999), max: latencies.last ?? 0)
    }

    /// Appends `count` records at full speed; returns records/s.
    @discardableResult
    private func fill(_ topic: Topic, count: Int, until stop: (@Sendable () -> Bool)? = nil) async throws -> Double {
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: Self.recordBytes)
        var batch = RecordBatch()
        let start = ContinuousClock.now
        var written = 0
        while written < count && !(stop?() ?? false) {
            batch.removeAll()
            for _ in 0..<Self.batchRecords { try batch.append(key: nil, value: value) }
            _ = try await topic.append(batch, partition: 0)
            written += Self.batchRecords
        }
        return Double(written) / (ContinuousClock.now - start).seconds
    }

    /// A reader process replays the first `records` records, alone or while this process appends.
    private func replayRate(_ topic: Topic, writing: Bool) async throws -> Double {
        let child = try ReaderChild(storePath: storeOptions.path, topic: topic.name, mode: "replay", count: records)
        let stop = Locked(false)
        let writer: Task<Double, any Error>? = writing ? Task { try await fill(topic, count: Int.max, until: { stop.withLock { $0 } }) } : nil
        let result = try await onThread { () throws -> ReaderChild.Outcome in
            try child.waitForReady()
            return try child.result()
        }
        stop.withLock { $0 = true }
        _ = try await writer?.value
        return Double(result.records) / result.seconds
    }

    /// This process appends `records` records while `readerCount` reader processes tail them;
    /// returns records/s and the cores this process and the readers kept busy meanwhile.
    private func appendRate(_ topic: Topic, readerCount: Int) async throws -> (rate: Double, writerCores: Double, readerCores: Double) {
        let children = try (0..<readerCount).map { _ in
            try ReaderChild(storePath: storeOptions.path, topic: topic.name, mode: "tail", count: records)
        }
        for child in children { try await onThread { try child.waitForReady() } }
        let cpuBefore = processCPUSeconds()
        let started = ContinuousClock.now
        let rate = try await fill(topic, count: records)
        let writerCPU = processCPUSeconds() - cpuBefore
        var readerCPU = 0.0
        for child in children { readerCPU += try await onThread { try child.result() }.cpuSeconds }
        // The readers finish just after the writer: their CPU is spread over the writer's time.
        let seconds = max((ContinuousClock.now - started).seconds, 1e-9)
        return (rate, writerCPU / seconds, readerCPU / seconds)
    }
}

/// Runs `body`, which blocks, on a thread of its own, so no thread of the cooperative pool (two
/// on this machine) waits on a child process.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A `bench reader-process` child: its output lines read by a thread of their own.
final class ReaderChild: @unchecked Sendable {
    struct Outcome {
        var records: Int
        var seconds: Double
        var latency: ProcessesBench.Latency
        /// CPU seconds (user and system) the child spent from "ready" to its result.
        var cpuSeconds: Double
    }

    private let process = Process()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var ended = false

    convenience init(storePath: String, topic: String, mode: String, count: Int) throws {
        try self.init(arguments: ["bench", "reader-process", "--store", storePath, "--topic", topic, "--mode", mode, "--count", "\(count)"])
    }

    /// This program run again with `arguments` (a hidden `bench` subcommand), reading
    /// `standardInput` when given.
    init(arguments: [String], standardInput: Pipe? = nil) throws {
        process.executableURL = URL(fileURLWithPath: try Self.executablePath())
        process.arguments = arguments
        if let standardInput { process.standardInput = standardInput }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        Thread { [self] in
            var pending = Data()
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                pending += chunk[0..<count]
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    condition.withLock {
                        lines.append(line)
                        condition.broadcast()
                    }
                }
            }
            condition.withLock {
                ended = true
                condition.broadcast()
            }
            withExtendedLifetime(pipe) {}
        }.start()
    }

    private static func executablePath() throws -> String {
        guard let path = Bundle.main.executablePath ?? CommandLine.arguments.first else { throw ToolError("Cannot find this program's own path to start reader processes.") }
        return path
    }

    private func waitForLine(_ matching: (String) -> Bool) throws -> String {
        try condition.withLock {
            while true {
                if let line = lines.first(where: matching) { return line }
                if ended { throw ToolError("A reader process ended early (status \(process.isRunning ? 0 : process.terminationStatus)).") }
                condition.wait()
            }
        }
    }

    func waitForReady() throws { _ = try waitForLine { $0 == "ready" } }

    /// Waits for the child's result line and its exit.
    func result() throws -> Outcome {
        let line = try waitForLine { $0.hasPrefix("result ") }
        process.waitUntilExit()
        let fields = line.split(separator: " ").dropFirst().map(String.init)
        guard fields.count == 7, let records = Int(fields[0]), let seconds = Double(fields[1]), let p50 = Int64(fields[2]), let p99 = Int64(fields[3]),
            let p999 = Int64(fields[4]), let maximum = Int64(fields[5]), let cpuSeconds = Double(fields[6])
        else { throw ToolError("A reader process printed an unexpected result: \(line)") }
        return Outcome(
            records: records, seconds: seconds, latency: ProcessesBench.Latency(p50: p50, p99: p99, p999: p999, max: maximum), cpuSeconds: cpuSeconds)
    }

    func end() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }
}

#if canImport(Glibc)
/// Glibc imports RUSAGE_SELF as an enum case where getrusage takes its raw value.
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

/// CPU seconds (user and system, every thread) this process has used so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF_WHO, &usage) == 0 else { return 0 }
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
