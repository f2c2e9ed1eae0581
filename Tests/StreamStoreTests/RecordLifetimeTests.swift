import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// How long the records a read hands out live: a `StoredRecord` from a replay's iterator
/// shares the read buffer and stays valid however long it is kept, even after the reader reused
/// its buffers for later reads; a `RecordView` lives only during the call that hands it out, and
/// the compiler keeps it there (it is non-copyable and handed out borrowed).
@Suite(.timeLimit(.minutes(5))) struct RecordLifetimeTests {
    @Test(arguments: [Compression.none, .zstd(level: 3)])
    func aRecordKeptPastItsReadStaysValid(compression: Compression) async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never, compression: compression))
        try await fixture.append(topic, count: 3_000, batchSize: 50)
        // Small reads: the reader refills (and, for records nobody keeps, reuses) its buffers
        // about a hundred times while the kept records hold on to the earlier ones.
        var kept: [StoredRecord] = []
        var seen: [Int64] = []
        for try await record in topic.replay(options: ReplayOptions(maxBytesPerRead: 4096)) {
            seen.append(record.offset)
            if record.offset % 7 == 0 { kept.append(record) }
        }
        #expect(seen == Array(0..<3_000))
        // Another replay reads over the same ranges meanwhile.
        var again = 0
        for try await record in topic.replay(options: ReplayOptions(maxBytesPerRead: 4096)) where record.valueString == "value-\(record.offset)" {
            again += 1
        }
        #expect(again == 3_000)
        #expect(kept.map(\.offset) == Array(stride(from: 0, to: 3_000, by: 7)))
        #expect(kept.map(\.valueString) == kept.map { "value-\($0.offset)" })
        #expect(kept.map(\.keyString) == kept.map { "key-\($0.offset)" })
    }

    @Test func aConsumerHandsOutRecordsThatStayValid() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        try await fixture.append(topic, count: 500, batchSize: 20, partition: 0)
        try await fixture.append(topic, count: 300, batchSize: 20, partition: 1, prefix: "other-")
        let store = try #require(fixture.store)
        let consumer = try store.consumer(group: "g", topic: "events", options: ConsumerOptions(maxBytesPerRead: 2048))
        var kept: [StoredRecord] = []
        for try await record in consumer.records(until: .end) { kept.append(record) }
        let first = kept.filter { $0.partition == 0 }, second = kept.filter { $0.partition == 1 }
        #expect(first.map(\.offset) == Array(0..<500))
        #expect(second.map(\.offset) == Array(0..<300))
        #expect(first.map(\.valueString) == (0..<500).map { "value-\($0)" })
        #expect(second.map(\.valueString) == (0..<300).map { "other-\($0)" })
    }

    @Test func viewsOfAReplayShowWhatItsIteratorHandsOut() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        try await fixture.append(topic, count: 400, batchSize: 30, partition: 0)
        try await fixture.append(topic, count: 200, batchSize: 30, partition: 1)
        // A start inside a batch and a stop inside another: views show only the records in range.
        for options in [ReplayOptions(maxBytesPerRead: 1024), ReplayOptions(from: .offset(45), until: .offset(170), maxBytesPerRead: 512)] {
            var iterated: [StoredRecord] = []
            for try await record in topic.replay(options: options) { iterated.append(record) }
            var viewed: [StoredRecord] = []
            try await topic.replay(options: options).forEachRecord { record in viewed.append(StoredRecord(copying: record)) }
            #expect(viewed == iterated)
            #expect(!viewed.isEmpty)
        }
    }

    @Test func aCopiedViewOwnsItsBytes() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append([Record(key: "k", value: "v", headers: [RecordHeader(key: "h", value: "x")])], partition: 0)
        var copies: [StoredRecord] = []
        var valueBytes = 0
        try await topic.replay().forEachRecord { record in
            copies.append(StoredRecord(copying: record))
            valueBytes += record.value?.count ?? -1
        }
        let copy = try #require(copies.first)
        #expect(copies.count == 1 && valueBytes == 1)
        #expect(copy.keyString == "k" && copy.valueString == "v" && copy.header("h")?.stringValue == "x")
        // Bytes of its own: the key, the value and the encoded header (zig-zag lengths 2, "h",
        // 2, "x"), not the read buffer with its batch header.
        #expect(copy.storage == Array("kv".utf8) + [2, UInt8(ascii: "h"), 2, UInt8(ascii: "x")])
    }

    @Test func anErrorOfTheBodyEndsTheReplayAsItIs() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        try await fixture.append(topic, count: 50, batchSize: 10)
        var visited = 0
        do {
            try await topic.replay().forEachRecord { (record) throws(StreamStoreError) in
                visited += 1
                if record.offset == 12 { throw StreamStoreError(.invalidArgument, "stop here") }
            }
            Issue.record("the body's error was not thrown")
        } catch {
            #expect(error.code == .invalidArgument && error.topic == nil)
        }
        #expect(visited == 13)
    }

    /// Compile-time: code that keeps a `RecordView` past its call does not compile, and the same
    /// code copying the record does. Type-checks two small files against the built module.
    @Test(.tags(.slow)) func aViewCannotEscapeItsCall() throws {
        let escaping = """
            import StreamStoreFormat
            func keep(_ batch: StoredBatch) throws(StreamStoreError) -> Int64? {
                var kept: RecordView? = nil
                try batch.forEachRecord { record in kept = record }
                return kept?.offset
            }
            """
        let copying = escaping.replacingOccurrences(of: "RecordView?", with: "StoredRecord?")
            .replacingOccurrences(of: "kept = record", with: "kept = StoredRecord(copying: record)")
        let refused = try typeCheck(escaping)
        #expect(refused.status != 0, "a view stored past its call compiled")
        // The borrowed view would have to be consumed (moved out of the call) to be kept.
        #expect(refused.output.contains("consum"), "\(refused.output)")
        let accepted = try typeCheck(copying)
        #expect(accepted.status == 0, "\(accepted.output)")
    }

    /// The build's folder of Swift modules: beside the test bundle or up to four folders above it.
    private func builtModules() -> URL? {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let modules = folder.appendingPathComponent("Modules")
            if FileManager.default.fileExists(atPath: modules.appendingPathComponent("StreamStoreFormat.swiftmodule").path) { return modules }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    /// Runs `swiftc -typecheck` on `source` with the modules of this build.
    private func typeCheck(_ source: String) throws -> (status: Int32, output: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let modules = try #require(builtModules(), "no Modules/StreamStoreFormat.swiftmodule beside the tests")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("view-\(UUID().uuidString).swift")
        try source.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "swiftc", "-typecheck", "-swift-version", "6", "-I", modules.path,
            "-I", root.appendingPathComponent("Sources/CStreamStoreShims/include").path,
            // SwiftPM writes the C target's module map into its build folder, beside Modules.
            "-Xcc", "-fmodule-map-file=" + modules.deletingLastPathComponent().appendingPathComponent("CStreamStoreShims.build/module.modulemap").path,
            "-I", root.appendingPathComponent("Sources/CZstd").path, file.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
