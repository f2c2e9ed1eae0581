import Foundation
import Testing

@testable import StreamStore

/// Kills a real child process that appends with `.everyAppend` at random moments, then checks
/// that every batch it saw acknowledged is readable, intact and where it was acknowledged.
@Suite(.serialized) struct CrashTests {
    static var iterations: Int { Int(ProcessInfo.processInfo.environment["STREAMSTORE_CRASH_ITERATIONS"] ?? "") ?? 6 }

    @Test(arguments: ["everyAppend", "interval:5", "never"])
    func acknowledgedAppendsSurviveSIGKILL(flush: String) async throws {
        let fixture = try StoreFixture()
        let seed = UInt64(ProcessInfo.processInfo.environment["STREAMSTORE_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        var acknowledged: [Ack] = []
        for iteration in 0..<CrashTests.iterations {
            let delayMilliseconds = Int.random(in: 20...250, using: &random)
            let acks = try runChildAndKill(store: fixture.path, flush: flush, afterMilliseconds: delayMilliseconds)
            acknowledged += acks
            // Reopen as the next process would, and check everything acknowledged so far.
            let store = try fixture.open()
            let topic = try store.topic("crash")
            for partition in 0..<2 {
                let records = try fixture.readAll(topic, partition: partition, maxBytes: 256 * 1024)
                #expect(records.map(\.offset) == Array(0..<Int64(records.count)), "offsets dense (seed \(seed), iteration \(iteration))")
                for ack in acknowledged where ack.partition == partition {
                    for offset in ack.baseOffset...ack.lastOffset {
                        let index = Int(offset)
                        guard index < records.count else {
                            Issue.record("acknowledged offset \(offset) of partition \(partition) is gone (seed \(seed), iteration \(iteration), flush \(flush))")
                            break
                        }
                        let expected = "\(ack.task):\(ack.firstSequence + Int(offset - ack.baseOffset)):\(ack.run)"
                        #expect(records[index].valueString == expected, "offset \(offset) (seed \(seed))")
                    }
                }
            }
            try fixture.expectConsistent()
            try store.close()
            fixture.store = nil
        }
        #expect(!acknowledged.isEmpty, "the child acknowledged nothing: it did not run")
    }

    struct Ack {
        var partition: Int
        var baseOffset: Int64
        var lastOffset: Int64
        var task: Int
        var firstSequence: Int
        var run: UInt32
    }

    /// Starts the child, lets it append for a while, SIGKILLs it, and returns what it acknowledged.
    private func runChildAndKill(store: String, flush: String, afterMilliseconds: Int) throws -> [Ack] {
        let process = Process()
        process.executableURL = try productURL("stream-crash-child")
        process.arguments = [store, flush, "4", "20"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for "ready" so the kill lands while appending, not while starting up.
        let reader = pipe.fileHandleForReading
        var received = Data()
        let deadline = Date().addingTimeInterval(20)
        while !String(decoding: received, as: UTF8.self).contains("ready\n") && Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            received += chunk
        }
        usleep(useconds_t(afterMilliseconds * 1000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        received += reader.readDataToEndOfFile()
        return String(decoding: received, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 7, fields[0] == "ack", let partition = Int(fields[1]), let base = Int64(fields[2]),
                let last = Int64(fields[3]), let task = Int(fields[4]), let first = Int(fields[5]), let run = UInt32(fields[6])
            else { return nil }
            return Ack(partition: partition, baseOffset: base, lastOffset: last, task: task, firstSequence: first, run: run)
        }
    }
}

/// The folder holding the built products (the test bundle's folder).
func productURL(_ name: String) throws -> URL {
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = folder.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        folder = folder.deletingLastPathComponent()
    }
    throw StreamStoreError(.notAStore, "\(name) was not built next to the tests")
}

