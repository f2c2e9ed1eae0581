import ArgumentParser
import StreamStore

extension StreamTool.DeadLetters {
    /// `stream-tool dlq redrive TOPIC`: appends TOPIC's dead letters back to TOPIC, once per
    /// group.
    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append a topic's dead letters back to it, for its consumers to process again.",
            discussion: """
                Reads TOPIC.dlq from where consumer group --group (default dlq-redrive) left off \
                to its end, and appends each dead letter to the partition of TOPIC it came from: \
                key, value and headers as they were, without the dlq-* headers, with \
                redrive-count one higher. After each append the group commits, so the next run \
                redrives only what was dead-lettered since. Records of TOPIC.dlq that are not \
                valid dead letters of TOPIC are skipped, listed, and passed over. --dry-run \
                appends and commits nothing and lists what would be redriven.

                Every consumer group of TOPIC gets the redriven records. A crash between an \
                append and its commit redrives that dead letter again next time; a topic with a \
                de-duplication window (create --dedupe-window) drops the repeat of a record with \
                a message-id.

                --json prints {"topic":...,"deadLetterTopic":...,"group":...,"dryRun":..., \
                "redriven":[{"partition":0,"offset":...,"originPartition":...,"originOffset":..., \
                "redriveCount":...,"targetPartition":...,"outcome":"appended"|"duplicate"| \
                "wouldAppend","newOffset":N|null}],"skipped":[{"partition":0,"offset":..., \
                "error":...}],"partitions":[{"partition":0,"fromOffset":...,"nextOffset":...}]}; \
                a duplicate's newOffset is the offset of the copy already in TOPIC.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic whose dead letters go back to it (not its .dlq topic).")
        var topic: String

        @Option(help: ArgumentHelp("The consumer group on TOPIC.dlq that records the progress.", valueName: "G"))
        var group: String = DeadLetter.defaultRedriveGroup

        @Option(help: ArgumentHelp("Redrive at most N dead letters.", valueName: "N"))
        var limit: Int?

        @Flag(name: .customLong("dry-run"), help: "Append and commit nothing; show what would be redriven.")
        var dryRun = false

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
        }

        func run() async throws {
            try await reportingErrors {
                let report = try await storeOptions.resolved(parent: root.storeOptions).withStore(createIfMissing: false) { store in
                    try await store.redriveDeadLetters(topic: topic, group: group, limit: limit, dryRun: dryRun)
                }
                try DeadLetterText.write(json: json, { Self.json(report, topic: topic) }, text: { Self.text(report, topic: topic) })
            }
        }

        /// The new offset of a redriven record, or of the copy a duplicate repeats.
        private static func newOffset(_ outcome: RedrivenDeadLetter.Outcome) -> Int64? {
            switch outcome {
            case .appended(let offset), .duplicate(_, let offset): return offset
            case .wouldAppend: return nil
            }
        }

        private static func outcomeName(_ outcome: RedrivenDeadLetter.Outcome) -> String {
            switch outcome {
            case .appended: return "appended"
            case .duplicate: return "duplicate"
            case .wouldAppend: return "wouldAppend"
            }
        }

        static func json(_ report: RedriveReport, topic: String) -> JSONValue {
            .object([
                ("topic", .string(topic)), ("deadLetterTopic", .string(report.deadLetterTopic)), ("group", .string(report.group)),
                ("dryRun", .bool(report.dryRun)),
                (
                    "redriven",
                    .array(
                        report.redriven.map { redriven in
                            let letter = redriven.deadLetter
                            return .object([
                                ("partition", .integer(Int64(letter.record.partition))), ("offset", .integer(letter.record.offset)),
                                ("originPartition", .integer(Int64(letter.originPartition))), ("originOffset", .integer(letter.originOffset)),
                                ("redriveCount", .integer(Int64(letter.redriveCount + 1))), ("targetPartition", .integer(Int64(redriven.partition))),
                                ("outcome", .string(outcomeName(redriven.outcome))), ("newOffset", .optional(newOffset(redriven.outcome))),
                            ])
                        })
                ),
                (
                    "skipped",
                    .array(
                        report.skipped.map {
                            .object([("partition", .integer(Int64($0.partition))), ("offset", .integer($0.offset)), ("error", .string($0.error.message))])
                        })
                ),
                (
                    "partitions",
                    .array(
                        report.partitions.map {
                            .object([("partition", .integer(Int64($0.partition))), ("fromOffset", .integer($0.fromOffset)), ("nextOffset", .integer($0.nextOffset))])
                        })
                ),
            ])
        }

        static func text(_ report: RedriveReport, topic: String) -> String {
            guard !report.partitions.isEmpty else { return DeadLetterText.noDeadLetters(topic) }
            var text = ""
            if !report.redriven.isEmpty {
                var table = TextTable([
                    ("OFFSET", .right), ("ORIGIN PARTITION", .right), ("ORIGIN OFFSET", .right), ("REDRIVE COUNT", .right), ("NEW OFFSET", .right),
                    ("RESULT", .left),
                ])
                for redriven in report.redriven {
                    let letter = redriven.deadLetter
                    let result: String
                    switch redriven.outcome {
                    case .appended: result = "appended to \(topic)[\(redriven.partition)]"
                    case .duplicate(let partition, _): result = "already in \(topic)[\(partition)] (de-duplicated)"
                    case .wouldAppend: result = "would be appended to \(topic)[\(redriven.partition)]"
                    }
                    table.add([
                        String(letter.record.offset), String(letter.originPartition), String(letter.originOffset), String(letter.redriveCount + 1),
                        newOffset(redriven.outcome).map(String.init) ?? "-", result,
                    ])
                }
                text += table.render() + "\n"
            }
            if !report.skipped.isEmpty {
                text += "Skipped (not dead letters of \(topic)):\n"
                for skipped in report.skipped { text += "  offset \(skipped.offset): \(DeadLetterText.oneLine(skipped.error.message, characters: 200))\n" }
                text += "\n"
            }
            let count = Format.count(Int64(report.redriven.count), "dead letter")
            let next = report.partitions.map { "\($0.nextOffset)" }.joined(separator: ", ")
            if report.dryRun {
                text += "Dry run: \(count) would be redriven into \(topic); nothing was appended or committed. Run without --dry-run to redrive.\n"
            } else if report.redriven.isEmpty && report.skipped.isEmpty {
                text += "Nothing to redrive: group \(report.group) has redriven everything in \(report.deadLetterTopic) (next offset \(next)).\n"
            } else {
                text += "Redrove \(count) into \(topic); group \(report.group) continues \(report.deadLetterTopic) at offset \(next).\n"
            }
            return text
        }
    }
}
