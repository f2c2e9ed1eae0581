import ArgumentParser
import Foundation
import StreamStore
import StreamStoreInspect

extension StreamTool {
    /// `stream-tool verify [TOPIC]`: reads every batch of every segment and checks it.
    ///
    /// Exits 3 when anything is wrong, so scripts and CI can gate on it; corruption is a
    /// finding here, not a failure of the tool.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every batch of every segment; exit 3 if anything is corrupt.",
            discussion: """
                Reads every segment of every partition (or of TOPIC's) and checks each batch's \
                length, magic, CRC32C and offsets, that every record decodes, that the \
                offset index agrees with the log, and that a sealed segment's correlation \
                filter (used by trace) is intact and holds every correlation id of its log. Prints a row per segment, each problem under \
                its segment, and a summary; exits 0 when all is sound, 3 when any problem was \
                found, 1 when verify itself could not run. Look closer at a damaged segment \
                with stream-tool dump FILE.

                --json prints one JSON document: topics, each with its name and partitions, \
                each with its partition number and segments, each with file, baseOffset, \
                batches, records, bytes, validBytes, correlationFilter (ok, missing, bad, or \
                notApplicable for an active segment) and problems (sentences); then the totals \
                segments, batches, records, bytes and problems.
                """)

        /// The exit status when corruption is found (CLI.md).
        static let problemsExitCode: Int32 = 3

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic to check (default: every topic).")
        var topic: String?

        @Flag(help: "Print one JSON document instead of a table.")
        var json = false

        func run() async throws {
            var problems = 0
            try await reportingErrors {
                let output = BufferedOutput()
                let options = storeOptions.resolved(parent: root.storeOptions)
                let totals = try await options.withReadOnlyStore { store in
                    let names = topic.map { [$0] } ?? store.topicNames
                    let topics = try names.map { (name) throws(StreamStoreError) in try store.topic(name) }
                    var run = VerifyRun(topics: topics, storePath: store.path, json: json, output: output)
                    return try run.verify()
                }
                problems = totals.problems
                try output.flush()
            }
            if problems > 0 { throw ExitCode(Self.problemsExitCode) }
        }
    }
}

/// One run of `verify`: checks partition after partition, writing each segment's row (or JSON)
/// as soon as it is checked, with progress on a terminal.
private struct VerifyRun {
    let topics: [Topic]
    let storePath: String
    let json: Bool
    let output: BufferedOutput
    let colours = Colours.standardOutput
    var totals = Totals()

    struct Totals {
        var topics = 0
        var partitions = 0
        var segments = 0
        /// Segments whose correlation filter was checked and sound.
        var filters = 0
        var batches = 0
        var records: Int64 = 0
        var bytes: Int64 = 0
        var problems = 0

        var summary: String {
            let verdict = problems == 0 ? "no problems" : "\(problems) problem\(problems == 1 ? "" : "s")"
            return "Verified \(topics) topic\(topics == 1 ? "" : "s"), \(partitions) partition\(partitions == 1 ? "" : "s"), "
                + "\(segments) segment\(segments == 1 ? "" : "s")"
                + (filters > 0 ? " (\(filters) with a correlation filter)" : "") + ", \(Format.grouped(Int64(batches))) batches, "
                + "\(Format.grouped(records)) records, \(Format.bytes(bytes)): \(verdict)."
        }
    }

    init(topics: [Topic], storePath: String, json: Bool, output: BufferedOutput) {
        self.topics = topics
        self.storePath = storePath
        self.json = json
        self.output = output
    }

    private var table: StreamingTable {
        let width = topics.map { "\($0.name)/\($0.partitionCount - 1)".count }.max() ?? 0
        return StreamingTable([
            ("PARTITION", width, .left), ("SEGMENT", 24, .left), ("BATCHES", 9, .right), ("RECORDS", 12, .right),
            ("BYTES", 10, .right), ("STATUS", 0, .left),
        ])
    }

    mutating func verify() throws -> Totals {
        let progress = ProgressLine()
        defer { progress.finish() }
        let totalBytes = StandardError.isTerminal ? logBytesOnDisk() : nil
        let stopwatch = Stopwatch()
        let table = self.table
        if json { output.append("{\"topics\":[") } else { output.append(table.titles) }
        for (topicIndex, topic) in topics.enumerated() {
            totals.topics += 1
            if json { output.append((topicIndex > 0 ? "," : "") + "{\"name\":" + JSONText.quoted(topic.name) + ",\"partitions\":[") }
            for partition in 0..<topic.partitionCount {
                totals.partitions += 1
                let doneBefore = totals.bytes
                var segmentBase: Int64 = 0
                var lastSeen: Int64 = 0
                let reports = try topic.verify(partition: partition) { bytes in
                    if bytes < lastSeen { segmentBase += lastSeen }
                    lastSeen = bytes
                    let done = doneBefore + segmentBase + bytes
                    progress.update { "verifying \(topic.name)/\(partition): " + ProgressText.bytes(done, of: totalBytes, seconds: stopwatch.elapsedSeconds) }
                }
                if json {
                    output.append((partition > 0 ? "," : "") + "{\"partition\":\(partition),\"segments\":[")
                }
                for (index, report) in reports.enumerated() {
                    add(report)
                    if json {
                        writeJSON(report, first: index == 0)
                    } else {
                        writeRow(report, name: "\(topic.name)/\(partition)", table: table)
                    }
                }
                if json { output.append("]}") }
                if output.isMostlyFull { progress.finish() }
                try output.flushIfFull()
            }
            if json { output.append("]}") }
        }
        if json {
            output.append(
                "],\"segments\":\(totals.segments),\"batches\":\(totals.batches),\"records\":\(totals.records),\"bytes\":\(totals.bytes),\"problems\":\(totals.problems)}\n"
            )
        } else {
            output.append(totals.summary + "\n")
        }
        return totals
    }

    private mutating func add(_ report: SegmentReport) {
        totals.segments += 1
        if report.correlationFilter == .ok { totals.filters += 1 }
        totals.batches += report.batchCount
        totals.records += report.recordCount
        totals.bytes += report.fileBytes
        totals.problems += report.problems.count
    }

    private func writeRow(_ report: SegmentReport, name: String, table: StreamingTable) {
        let file = report.path.split(separator: "/").last.map(String.init) ?? report.path
        var status = "ok"
        if !report.problems.isEmpty {
            status = "\(report.problems.count) PROBLEM\(report.problems.count == 1 ? "" : "S")"
        }
        if report.validBytes != report.fileBytes {
            status += " (\(Format.bytes(report.validBytes)) valid)"
        }
        let colours = self.colours
        let isSound = report.problems.isEmpty
        let style: (String) -> String = { isSound ? colours.green($0) : colours.red($0) }
        output.append(
            table.row(
                [name, file, Format.grouped(Int64(report.batchCount)), Format.grouped(report.recordCount), Format.bytes(report.fileBytes), status],
                colour: [5: style]))
        for problem in report.problems {
            output.append("    \(report.path): \(problem)\n")
        }
    }

    private func writeJSON(_ report: SegmentReport, first: Bool) {
        let value = JSONValue.object([
            ("file", .string(report.path)),
            ("baseOffset", .integer(report.baseOffset)),
            ("batches", .integer(Int64(report.batchCount))),
            ("records", .integer(report.recordCount)),
            ("bytes", .integer(report.fileBytes)),
            ("validBytes", .integer(report.validBytes)),
            ("correlationFilter", .string(report.correlationFilter.rawValue)),
            ("problems", .array(report.problems.map { .string($0) })),
        ])
        if !first { output.append(UInt8(ascii: ",")) }
        value.write(to: output)
    }

    /// Bytes of every `.log` file to check, for the progress line's percentage and ETA.
    private func logBytesOnDisk() -> Int64 {
        let files = FileManager.default
        var total: Int64 = 0
        for topic in topics {
            for partition in 0..<topic.partitionCount {
                let folder = "\(storePath)/\(topic.name)/\(partition)"
                for name in (try? files.contentsOfDirectory(atPath: folder)) ?? [] where name.hasSuffix(".log") {
                    let size = (try? files.attributesOfItem(atPath: "\(folder)/\(name)"))?[.size] as? NSNumber
                    total += size?.int64Value ?? 0
                }
            }
        }
        return total
    }
}
