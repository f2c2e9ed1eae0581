import Foundation
import StreamStore
import Testing

/// `dump FILE`: segment and index files shown as they are on disk, damage reported as data.
@Suite(.timeLimit(.minutes(5))) struct DumpTests {
    /// A topic `t` with three batches in partition 0: two append-time batches of plain lines and a
    /// create-time batch with a key, headers and a timestamp.
    private func threeBatches(_ tool: ToolRunner) async throws {
        try await tool.succeed(["create", "t", "--flush", "never"])
        try await tool.succeed(["produce", "t"], input: "a\nb\n")
        try await tool.succeed(["produce", "t"], input: "c\n")
        try await tool.succeed(
            ["produce", "t", "--format", "json"],
            input: #"{"key":"customer-17","value":"order placed","headers":{"event-type":"order-placed"},"timestamp":"2025-11-29T10:00:00Z"}"# + "\n")
    }

    private func dumpJSON(_ tool: ToolRunner, _ arguments: [String], status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let result = try await tool.run(["dump"] + arguments + ["--json"])
        #expect(result.status == status, "dump \(arguments) exited \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdoutLines.count == 1, "one JSON document on one line", sourceLocation: sourceLocation)
        return try jsonObject(result.stdout, sourceLocation: sourceLocation)
    }

    @Test func aLogShowsEveryBatchWhereItLies() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await threeBatches(tool)
        let path = tool.segmentPath("t")
        let dump = try await dumpJSON(tool, [path])
        #expect(dump["kind"] as? String == "log")
        #expect(dump["baseOffset"] as? Int == 0)
        let batches = try #require(dump["batches"] as? [[String: Any]])
        try #require(batches.count == 3)
        #expect(batches.map { $0["baseOffset"] as? Int } == [0, 2, 3])
        #expect(batches.map { $0["lastOffset"] as? Int } == [1, 2, 3])
        #expect(batches.map { $0["recordCount"] as? Int } == [2, 1, 1])
        // Each batch starts where the one before it ends, and together they fill the file.
        let sizes = batches.compactMap { $0["bytes"] as? Int }
        #expect(batches.compactMap { $0["position"] as? Int } == [0, sizes[0], sizes[0] + sizes[1]])
        #expect(sizes.reduce(0, +) == (dump["fileBytes"] as? Int))
        #expect(sizes.reduce(0, +) == (try tool.bytes(of: path).count))
        #expect(batches.allSatisfy { $0["crcValid"] as? Bool == true && $0["crc"] as? Int == $0["computedCrc"] as? Int })
        #expect(batches.map { $0["timestampType"] as? String } == ["LogAppendTime", "LogAppendTime", "CreateTime"])
        #expect(batches[2]["baseTimestamp"] as? Int == 1_764_410_400_000)
        #expect(batches.allSatisfy { $0["codec"] as? String == "none" && $0["magic"] as? Int == 2 && $0["producerId"] as? Int == -1 })
        #expect((dump["end"] as? [String: Any])?["status"] as? String == "complete")
        #expect(dump["recordCount"] as? Int == 4 && dump["problems"] as? Int == 0)

        let text = try await tool.succeed(["dump", path])
        let lines = text.stdoutLines
        let titles = try #require(lines.first { $0.contains("POSITION") })
        #expect(titles.contains("BASE OFFSET") && titles.contains("CODEC") && titles.contains("MAX TIMESTAMP") && titles.contains("CRC"))
        // Numbers are right-aligned under their titles.
        let positionEnd = try #require(titles.range(of: "POSITION")?.upperBound).utf16Offset(in: titles)
        let rows = lines.filter { $0.hasSuffix(" ok") }
        try #require(rows.count == 3)
        for (row, size) in zip(rows, [0, sizes[0], sizes[0] + sizes[1]]) {
            #expect(row.prefix(positionEnd).trimmingCharacters(in: .whitespaces) == String(size))
        }
        #expect(rows[2].contains("2025-11-29T10:00:00.000Z") && rows[2].contains(" create "))
        #expect(text.stdout.contains("3 batches, 4 records; the file ends on a batch boundary."))
        #expect(text.stdoutLines.last == "No problems.")
    }

    @Test func recordsArePrintedUnderTheirBatch() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await threeBatches(tool)
        let text = try await tool.succeed(["dump", tool.segmentPath("t"), "--records"]).stdoutLines
        let rowOfC = try #require(text.firstIndex { $0.hasSuffix("  c") })
        #expect(text[rowOfC - 1].hasSuffix(" ok"), "the record comes right after its batch's row")
        #expect(text.contains { $0.contains("customer-17") && $0.contains("order placed") && $0.contains("[event-type=order-placed]") })

        let dump = try await dumpJSON(tool, [tool.segmentPath("t"), "--records"])
        let batches = try #require(dump["batches"] as? [[String: Any]])
        let records = batches.map { ($0["records"] as? [[String: Any]]) ?? [] }
        #expect(records.map { $0.compactMap { $0["value"] as? String } } == [["a", "b"], ["c"], ["order placed"]])
        #expect(records[2].first?["key"] as? String == "customer-17")
        #expect(records[2].first?["offset"] as? Int == 3)
        #expect((records[2].first?["headers"] as? [String: String]) == ["event-type": "order-placed"])
    }

    @Test func compressedBatchesShowTheirCodecAndUncompressedSize() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "z", "--compression", "zstd:3", "--flush", "never"])
        try await tool.succeed(["produce", "z"], input: (0..<1000).map { "order event number \($0) for customer-\($0 % 7)\n" }.joined())
        let dump = try await dumpJSON(tool, [tool.segmentPath("z"), "--records"])
        let batch = try #require((dump["batches"] as? [[String: Any]])?.first)
        #expect(batch["codec"] as? String == "zstd")
        #expect(batch["attributes"] as? Int == 4 | 8)
        #expect((batch["uncompressedBytes"] as? Int ?? 0) > 4 * (batch["bytes"] as? Int ?? .max))
        let records = try #require(batch["records"] as? [[String: Any]])
        #expect(records.count == 1000)
        #expect(records[999]["value"] as? String == "order event number 999 for customer-5")
    }

    @Test func aBatchLargerThanOneReadIsReadWhole() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "big", "--flush", "never"])
        // 5 MiB: more than the 4 MiB the inspector reads at a time.
        try await tool.succeed(["produce", "big"], input: String(repeating: "x", count: 5 << 20) + "\n")
        try await tool.succeed(["produce", "big"], input: "small\n")
        let dump = try await dumpJSON(tool, [tool.segmentPath("big")])
        let batches = try #require(dump["batches"] as? [[String: Any]])
        #expect(batches.map { $0["recordCount"] as? Int } == [1, 1])
        #expect((batches[0]["bytes"] as? Int ?? 0) > 5 << 20)
        #expect(batches[1]["position"] as? Int == batches[0]["bytes"] as? Int)
        #expect((dump["end"] as? [String: Any])?["status"] as? String == "complete")
    }

    @Test func aFlippedByteIsReportedAndTheWalkGoesOn() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await threeBatches(tool)
        let path = tool.segmentPath("t")
        let second = try tool.batchLength(at: 0, in: path) + 12
        // The last byte of the second batch: its one record's header count.
        try tool.flipByte(at: second + tool.batchLength(at: second, in: path) + 11, in: path)

        let result = try await tool.run(["dump", path])
        #expect(result.status == 3)
        #expect(result.errorLines.isEmpty)
        let bad = try #require(result.stdoutLines.first { $0.contains(" BAD ") })
        #expect(bad.contains("does not match the stored"))
        #expect(result.stdoutLines.filter { $0.hasSuffix(" ok") }.count == 2, "the batch after the damaged one is still shown")
        #expect(result.stdoutLines.last?.hasSuffix("problems found.") == true)

        let dump = try await dumpJSON(tool, [path], status: 3)
        let batches = try #require(dump["batches"] as? [[String: Any]])
        #expect(batches.map { $0["crcValid"] as? Bool } == [true, false, true])
        let problems = try #require(batches[1]["problems"] as? [String])
        #expect(problems.first?.contains("CRC32C") == true)
        #expect(problems.last?.hasPrefix("records: ") == true, "a header count of -1 does not decode")
        #expect(dump["problems"] as? Int == 2)
    }

    @Test func aTruncatedSealedSegmentIsReportedByDumpAndVerify() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "t", "--flush", "never", "--segment-bytes", "4KiB"])
        for round in 0..<3 {
            try await tool.succeed(["produce", "t"], input: (0..<100).map { "round \(round) value \($0) padded to be longer\n" }.joined())
        }
        let logs = try tool.logFiles("t")
        try #require(logs.count >= 2, "a sealed segment to damage")
        let sealed = logs[0]
        let size = try tool.bytes(of: sealed).count
        try tool.truncate(sealed, toByteCount: size - 10)

        let dump = try await dumpJSON(tool, [sealed], status: 3)
        let end = try #require(dump["end"] as? [String: Any])
        #expect(end["status"] as? String == "truncated")
        #expect(end["position"] as? Int == 0)
        #expect(end["presentBytes"] as? Int == size - 10 && end["neededBytes"] as? Int == size)
        let text = try await tool.run(["dump", sealed])
        #expect(text.status == 3 && text.errorLines.isEmpty)
        #expect(text.stdout.contains("the file ends inside the batch at byte 0: \(size - 10) of its \(size) bytes are present"))

        let verify = try await tool.run(["verify", "t"])
        #expect(verify.status == 3)
        #expect(verify.errorLines.isEmpty)
        #expect(verify.stdout.contains("PROBLEM"))
    }

    @Test func bytesThatFrameNoBatchEndTheWalk() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await threeBatches(tool)
        let path = tool.segmentPath("t")
        let second = try tool.batchLength(at: 0, in: path) + 12
        try tool.overwrite(path, at: second + 8, count: 4, with: 0xFF)
        let dump = try await dumpJSON(tool, [path], status: 3)
        #expect((dump["batches"] as? [[String: Any]])?.count == 1)
        let end = try #require(dump["end"] as? [String: Any])
        #expect(end["status"] as? String == "unreadable")
        #expect(end["position"] as? Int == second)
        #expect((end["reason"] as? String)?.contains("batch length -1") == true)
    }

    /// Twenty batches of 1,000 records in segments of 64 KiB: several segments, each with
    /// offset- and time-index entries.
    private func indexedTopic(_ tool: ToolRunner) async throws {
        try await tool.succeed(["create", "t", "--flush", "never", "--segment-bytes", "64KiB"])
        try await tool.succeed(["produce", "t"], input: (0..<20_000).map { "value \($0)\n" }.joined())
    }

    @Test func indexEntriesNameBatchStartsOfTheirLog() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await indexedTopic(tool)
        let logs = try tool.logFiles("t")
        try #require(logs.count >= 3)
        let log = try await dumpJSON(tool, [logs[0]])
        let batches = try #require(log["batches"] as? [[String: Any]])
        let starts = Dictionary(uniqueKeysWithValues: batches.compactMap { batch in (batch["position"] as? Int).map { ($0, batch["baseOffset"] as? Int) } })

        let index = try await dumpJSON(tool, [String(logs[0].dropLast(4)) + ".index"])
        #expect(index["kind"] as? String == "offsetIndex")
        let entries = try #require(index["entries"] as? [[String: Any]])
        #expect(!entries.isEmpty)
        for entry in entries {
            let position = try #require(entry["position"] as? Int)
            #expect(starts[position] == entry["offset"] as? Int, "entry \(entry) names no batch start")
        }

        // A sealed segment's time index ends with (largest timestamp, next segment's base offset).
        let time = try await dumpJSON(tool, [String(logs[0].dropLast(4)) + ".timeindex"])
        let last = try #require((time["entries"] as? [[String: Any]])?.last)
        let nextBase = Int(String(logs[1].split(separator: "/").last!.prefix(20)))
        #expect(last["offset"] as? Int == nextBase)
        #expect(last["timestamp"] as? Int == batches.compactMap { $0["maxTimestamp"] as? Int }.max())

        let checked = try await tool.succeed(["dump", logs[0], "--verify-index"])
        #expect(checked.stdout.contains("Offset index 00000000000000000000.index against the log: agrees"))
        #expect(checked.stdout.contains("Time index 00000000000000000000.timeindex against the log: agrees"))
        let textIndex = try await tool.succeed(["dump", String(logs[0].dropLast(4)) + ".index"]).stdoutLines
        #expect(textIndex.contains { $0.contains("RELATIVE OFFSET") && $0.contains("POSITION") })
    }

    @Test func aDamagedIndexDisagreesWithItsLog() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await indexedTopic(tool)
        let index = tool.segmentPath("t", suffix: ".index")
        let entries = try tool.bytes(of: index).count / 8
        try #require(entries >= 1)
        // Point the first entry four bytes past the start of the batch it names.
        var data = try tool.bytes(of: index)
        data[7] &+= 4
        try data.write(to: URL(fileURLWithPath: index))

        let result = try await tool.run(["dump", index, "--verify-index"])
        #expect(result.status == 3)
        #expect(result.errorLines.isEmpty)
        #expect(result.stdout.contains("no batch starts there"))
        #expect(result.stdout.contains("where the writer makes"))
        let json = try await dumpJSON(tool, [index, "--verify-index"], status: 3)
        let check = try #require((json["indexChecks"] as? [[String: Any]])?.first)
        #expect((check["problems"] as? [String])?.count == 2)
        #expect(check["expectedEntries"] as? Int == entries)

        // Without --verify-index the entries still look in order: nothing to report.
        #expect(try await tool.run(["dump", index]).status == 0)
    }

    @Test func dumpReadsAStoreThatAnotherProcessHasOpen() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await threeBatches(tool)
        let store = try Store.open(at: tool.store)
        defer { try? store.close() }
        let topic = try store.topic("t")
        // Batches of about 5 KiB: each after the first gets an index entry.
        for batch in 0..<5 {
            _ = try await topic.append((0..<50).map { Record(value: "batch \(batch) record \($0) " + String(repeating: "x", count: 80)) }, partition: 0)
        }
        // The active segment's index is preallocated: zeroed slots follow its entries.
        let index = try await dumpJSON(tool, ["t/0/00000000000000000000.index"])
        let entries = try #require(index["entries"] as? [[String: Any]])
        #expect(entries.count >= 3)
        #expect((index["preallocatedSlots"] as? Int ?? 0) > 0)
        let dump = try await tool.succeed(["dump", "t/0/00000000000000000000.log", "--verify-index"])
        #expect(dump.stdout.contains("8 batches, 254 records"))
        #expect(dump.stdout.contains("Offset index 00000000000000000000.index against the log: agrees (\(entries.count) entries"))
        #expect(try await tool.succeed(["dump", "t/0/00000000000000000000.index"]).stdout.contains("zeroed slots: room preallocated"))
        // verify reads beside the writer, up to the end the writer published.
        let verified = try await tool.succeed(["verify"])
        #expect(verified.stdout.contains("254 records"), "\(verified.stdout)")
    }

    @Test func whatIsNotASegmentFileIsAnError() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await threeBatches(tool)
        #expect(try await tool.fail(["dump", "t/0/00000000000000000099.log"]).contains("No such file"))
        #expect(try await tool.fail(["dump", "t/0"]).contains("is a folder"))
        #expect(try await tool.fail(["dump", "t/0/checkpoints"]).contains("not a segment file"))
        let copy = tool.folder.appendingPathComponent("copy.index").path
        try FileManager.default.copyItem(atPath: tool.segmentPath("t", suffix: ".index"), toPath: copy)
        #expect(try await tool.fail(["dump", copy]).contains("not named like a segment file"))
        let logCopy = tool.folder.appendingPathComponent("copy.log").path
        try FileManager.default.copyItem(atPath: tool.segmentPath("t"), toPath: logCopy)
        #expect(try await tool.succeed(["dump", logCopy]).stdout.contains("base offset unknown"))
        #expect(try await tool.fail(["dump", logCopy, "--verify-index"]).contains("--verify-index"))
        let empty = tool.folder.appendingPathComponent("00000000000000000000.log").path
        _ = FileManager.default.createFile(atPath: empty, contents: nil)
        #expect(try await tool.succeed(["dump", empty]).stdout.contains("0 batches, 0 records"))
    }
}
