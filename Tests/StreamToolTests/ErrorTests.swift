import Foundation
import StreamStore
import StreamStoreTestSupport
import Testing

/// Every runtime failure is one `error:` line on stderr and exit status 1 (CLI.md, "Global").
@Suite(.timeLimit(.minutes(5))) struct ErrorTests {
    @Test func unknownTopicAndPartitionOutOfRange() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t", "--partitions", "2"])
        let unknown = try await tool.fail(["replay", "nope"])
        #expect(unknown.contains("There is no topic nope.") && unknown.contains("Create it first: stream-tool create nope"))
        // Each the store's unknownTopic message, not just any line naming the topic.
        for command in [["produce", "nope"], ["describe", "nope"], ["verify", "nope"]] {
            let said = try await tool.fail(command, input: "x\n")
            #expect(said.contains("There is no topic nope."), "\(command): \(said)")
        }
        // partitionOutOfRange, with the partitions that exist.
        let replayed = try await tool.fail(["replay", "t", "--partition", "2"])
        #expect(replayed.contains("Topic t has partitions 0...1; there is no partition 2."), "\(replayed)")
        let produced = try await tool.fail(["produce", "t", "--partition", "5"], input: "x\n")
        #expect(produced.contains("Topic t has partitions 0...1; there is no partition 5."), "\(produced)")
        #expect(try await tool.fail(["produce", "t", "--format", "json"], input: "{\"value\":\"v\",\"partition\":7}\n").contains("line 1"))
        #expect(try await tool.fail(["replay", "t", "--partition", "0", "--from-offset", "5"]).contains("Offset 5"))
    }

    @Test func anInvalidOrLongTopicNameIsSaidOnce() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        let escape = try await tool.fail(["replay", "../x"])
        #expect(escape.contains("is not a valid topic name"), "\(escape)")
        #expect(!escape.contains("stream-tool create"))
        let long = String(repeating: "a", count: 300)
        let tooLong = try await tool.fail(["replay", long])
        #expect(tooLong.contains("is not a valid topic name"))
        #expect(tooLong.components(separatedBy: String(repeating: "a", count: 100)).count <= 2, "\(tooLong)")
        let valid = String(repeating: "b", count: 200)
        let unknown = try await tool.fail(["replay", valid])
        #expect(unknown.components(separatedBy: valid).count <= 2, "\(unknown)")
        #expect(unknown.contains("Create it first with stream-tool create."))
    }

    @Test func aNegativePartitionSaysItIsNegative() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        for arguments in [["replay", "t", "--partition", "-1"], ["produce", "t", "--partition", "-1"], ["replay", "t", "--from-offset", "-5"]] {
            let result = try await tool.run(arguments, input: Data("x\n".utf8))
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.contains("must not be negative"), "\(arguments): \(result.stderr)")
        }
    }

    @Test func aFileAsStoreIsNotAStoreAndMissingParentsAreCreated() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let file = tool.folder.appendingPathComponent("afile").path
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        for command in [["topics"], ["create", "t"]] {
            let result = try await tool.run(command + ["--store", file], addStore: false)
            #expect(result.status == 1)
            #expect(result.errorLines.count == 1)
            #expect(result.errorLines.first?.contains("\(file) is a file, not a store folder") == true, "\(result.stderr)")
            #expect(!result.stderr.contains("store.lock"))
        }
        let nested = tool.folder.appendingPathComponent("var/lib/orders/events").path
        #expect(try await tool.run(["create", "t", "--store", nested], addStore: false).status == 0)
        #expect(FileManager.default.fileExists(atPath: nested + "/t/topic.json"))
    }

    @Test func malformedJSONLineStopsWithItsNumberAndKeepsTheLinesBefore() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        let input = "{\"value\":\"one\"}\n{\"value\":\"two\"}\n{\"value\": oops}\n{\"value\":\"four\"}\n"
        let result = try await tool.run(["produce", "t", "--format", "json"], input: input)
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1)
        #expect(result.errorLines.first?.hasPrefix("error: line 3:") == true)
        #expect(result.stderr.contains("Produced 2 records"))
        let replay = try await tool.succeed(["replay", "t", "--format", "value"])
        #expect(replay.stdoutLines == ["one", "two"])

        #expect(try await tool.fail(["produce", "t", "--format", "json"], input: "{\"vaule\":\"x\"}\n").contains("unknown member \"vaule\""))
        #expect(try await tool.fail(["produce", "t", "--format", "json"], input: "{\"valueBase64\":\"!!\"}\n").contains("base64"))
        let future = "{\"value\":\"x\",\"timestamp\":\"2999-01-01T00:00:00Z\"}\n"
        #expect(try await tool.fail(["produce", "t", "--format", "json"], input: future).contains("future"))
    }

    @Test func valueOverTheRecordLimit() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t"])
        var input = Data("small\n".utf8)
        input.append(Data(repeating: UInt8(ascii: "x"), count: Limits.maxRecordBytes + 1))
        input.append(Data("\n".utf8))
        let error = try await tool.fail(["produce", "t"], input: input)
        #expect(error.contains("line 2") && error.contains("limit"))
        #expect(try await tool.succeed(["replay", "t", "--format", "value"]).stdoutLines == ["small"])
    }

    @Test func invalidDurationsSizesAndTimes() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        #expect(try await tool.fail(["create", "t", "--flush", "interval:5parsecs"]).contains("duration"))
        #expect(try await tool.fail(["create", "t", "--flush", "sometimes"]).contains("flush policy"))
        #expect(try await tool.fail(["create", "t", "--segment-bytes", "12MB"]).contains("size"))
        #expect(try await tool.fail(["create", "t", "--segment-bytes", "100"]).contains("--segment-bytes must be 4096 to"))
        #expect(try await tool.fail(["create", "t", "--partitions", "0"]).contains("--partitions must be 1 to 10000, not 0"))
        #expect(try await tool.fail(["create", "t", "--compression", "zstd:99"]).contains("the level must be"))
        #expect(try await tool.fail(["create", "t", "--compression", "lz4"]).contains("not a compression"))
        // A create that fails its checks leaves no empty store behind.
        #expect(!FileManager.default.fileExists(atPath: tool.store))
        try await tool.succeed(["create", "t", "--flush", "interval:250ms", "--segment-bytes", "64KiB"])
        #expect(try await tool.fail(["replay", "t", "--from-time", "yesterday"]).contains("not a valid time"))
        #expect(try await tool.fail(["replay", "t", "--from-time", "2999-01-01T00:00:00Z"]).contains("future"))
        #expect(try await tool.fail(["replay", "t", "--until-time", "2024-13-01T00:00:00Z"]).contains("not a valid time"))
        #expect(try await tool.fail(["produce", "t", "--header", "novalue"], input: "x\n").contains("KEY=VALUE"))
    }

    @Test func topicExistsWithAnotherConfig() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t", "--partitions", "2"])
        #expect(try await tool.succeed(["create", "t", "--partitions", "2"]).stdout.contains("already exists"))
        #expect(try await tool.fail(["create", "t", "--partitions", "3"]).contains("partitionCount is 2, not 3"))
        // Flush policies are spelled as --flush takes them, not as topic.json stores them.
        let flush = try await tool.fail(["create", "t", "--partitions", "2", "--flush", "interval:200ms"])
        #expect(flush.contains("flush is always, not interval:200ms"))
        #expect(!flush.contains("everyAppend"))
        try await tool.succeed(["create", "u", "--flush", "never"])
        #expect(try await tool.fail(["create", "u"]).contains("flush is never, not always"))
    }

    @Test func aCorruptBatchStopsReplayWithOneErrorLine() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        // Damage in a sealed segment: the active one's tail would be cut by recovery instead.
        try await tool.succeed(["create", "t", "--flush", "never", "--segment-bytes", "4KiB"])
        try await tool.succeed(["produce", "t"], input: "first\n")
        try await tool.succeed(["produce", "t"], input: "second\nthird\n")
        try await tool.succeed(["produce", "t"], input: String(repeating: "a value long enough to roll the segment\n", count: 120))
        #expect(try tool.logFiles("t").count == 2)
        let log = tool.segmentPath("t")
        let second = try tool.batchLength(at: 0, in: log) + 12
        try tool.flipByte(at: second + 65, in: log)
        let result = try await tool.run(["replay", "t", "--format", "value"])
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1)
        #expect(result.errorLines.first?.contains("stream-tool verify") == true)
        #expect(result.stdoutLines == ["first"], "what was read before the damage is printed")
        #expect(!result.stderr.contains("Fatal error"))
    }

    /// Slow: the locked store is reported after the CLI's lock wait.
    @Test(.tags(.slow)) func storeMissingNotAStoreOrLocked() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        // Reading commands never create a store.
        let missing = try await tool.fail(["topics"])
        #expect(missing.contains("There is no store there") && missing.contains("Point --store at a store folder"))
        #expect(!FileManager.default.fileExists(atPath: tool.store))

        try FileManager.default.createDirectory(atPath: tool.store, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: tool.store).appendingPathComponent("notes.txt"))
        let notAStore = try await tool.fail(["topics"])
        #expect(notAStore.contains("not a store") && notAStore.contains("Point --store at a store folder"))
        #expect(try await tool.fail(["create", "t"]).contains("not a store"))

        // Beside a running writer, reading commands open the store read-only and work; a
        // command that writes is still refused.
        let locked = tool.folder.appendingPathComponent("locked").path
        let store = try Store.open(at: locked)
        defer { try? store.close() }
        _ = try store.createTopic("t")
        let read = try await tool.run(["topics", "--store", locked], addStore: false)
        #expect(read.status == 0)
        #expect(read.stdoutLines == ["t"])
        let write = try await tool.run(["create", "u", "--store", locked], addStore: false)
        #expect(write.status == 1)
        #expect(write.errorLines.count == 1)
        #expect(write.errorLines.first?.contains("open in another process") == true)
    }

    @Test func usageErrorsKeepArgumentParsersBehaviour() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await tool.run(["replay", "t", "--from-offset", "1", "--from-end"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Usage:"))
        let unknownFlag = try await tool.run(["create", "t", "--compresion", "zstd"])
        #expect(unknownFlag.status == 64)
        for arguments in [["replay", "t", "--partition=-1"], ["replay", "t", "--until-offset=-1"], ["produce", "t", "--partition=-2"]] {
            let negative = try await tool.run(arguments)
            #expect(negative.status == 64, "\(arguments)")
            #expect(negative.stderr.contains("must not be negative"), "\(arguments): \(negative.stderr)")
        }
    }
}
