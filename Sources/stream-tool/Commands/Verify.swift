import ArgumentParser
import StreamStore

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
                length, magic, CRC32C and offsets, that every record decodes, and that the \
                offset index agrees with the log. Prints a line per segment and a summary; \
                exits 0 when all is sound, 3 when any problem was found, 1 when verify itself \
                could not run.
                """)

        /// The exit status when corruption is found (CLI.md).
        static let problemsExitCode: Int32 = 3

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic to check (default: every topic).")
        var topic: String?

        func run() async throws {
            var problems = 0
            try await reportingErrors {
                let output = BufferedOutput()
                let totals = try await storeOptions.resolved(parent: root.storeOptions).withStore(createIfMissing: false) { store in
                    let names = topic.map { [$0] } ?? store.topicNames
                    let topics = try names.map { (name) throws(StreamStoreError) in try store.topic(name) }
                    return try Self.verify(topics, to: output)
                }
                problems = totals.problems
                output.append(totals.summary + "\n")
                try output.flush()
            }
            if problems > 0 { throw ExitCode(Self.problemsExitCode) }
        }

        private struct Totals {
            var topics = 0
            var partitions = 0
            var segments = 0
            var batches = 0
            var records: Int64 = 0
            var bytes: Int64 = 0
            var problems = 0

            var summary: String {
                let verdict = problems == 0 ? "no problems" : "\(problems) problem\(problems == 1 ? "" : "s")"
                return "Verified \(topics) topic\(topics == 1 ? "" : "s"), \(partitions) partition\(partitions == 1 ? "" : "s"), "
                    + "\(segments) segment\(segments == 1 ? "" : "s"), \(Format.grouped(Int64(batches))) batches, "
                    + "\(Format.grouped(records)) records, \(Format.bytes(bytes)): \(verdict)."
            }
        }

        private static func verify(_ topics: [Topic], to output: BufferedOutput) throws -> Totals {
            var totals = Totals()
            let progress = ProgressLine()
            defer { progress.finish() }
            for topic in topics {
                totals.topics += 1
                for partition in 0..<topic.partitionCount {
                    totals.partitions += 1
                    let reports = try topic.verify(partition: partition) { bytes in
                        progress.update { "verifying \(topic.name)/\(partition): \(Format.bytes(bytes))" }
                    }
                    for report in reports {
                        totals.segments += 1
                        totals.batches += report.batchCount
                        totals.records += report.recordCount
                        totals.bytes += report.fileBytes
                        totals.problems += report.problems.count
                        let file = report.path.split(separator: "/").last.map(String.init) ?? report.path
                        var line = "\(topic.name)/\(partition)  \(file)  \(Format.grouped(Int64(report.batchCount))) batches  "
                        line += "\(Format.grouped(report.recordCount)) records  \(Format.bytes(report.fileBytes))"
                        if report.validBytes != report.fileBytes {
                            line += " (\(Format.bytes(report.validBytes)) valid)"
                        }
                        line += report.problems.isEmpty ? "  ok" : "  \(report.problems.count) PROBLEM\(report.problems.count == 1 ? "" : "S")"
                        output.append(line + "\n")
                        for problem in report.problems {
                            output.append("    \(report.path): \(problem)\n")
                        }
                    }
                    try output.flushIfFull()
                }
            }
            return totals
        }
    }
}
