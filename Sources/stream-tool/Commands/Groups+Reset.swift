import ArgumentParser
import StreamStore

extension StreamTool.Groups {
    /// `stream-tool groups reset GROUP TOPIC --to-…`: moves a group's committed offsets, to
    /// process records again (after a bug fix) or to skip them.
    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a consumer group's committed offsets on a topic.",
            discussion: """
                Sets the offsets GROUP commits on TOPIC (every partition, or --partition P) to \
                the log start (--to-beginning), the log end (--to-end: skip everything kept so \
                far), an offset (--to-offset N, held within each partition's log start and end) \
                or the first record stamped at or after a time (--to-time TIME), and prints each \
                partition's old and new offset. The next replay --group GROUP (or a consumer of \
                the group) starts there. GROUP must exist (groups list shows them).

                --json prints {"group":...,"topic":...,"partitions":[{"partition":0, \
                "oldOffset":N|null,"newOffset":N}]}.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The consumer group.")
        var group: String

        @Argument(help: "The topic whose offsets move.")
        var topic: String

        @Flag(name: .customLong("to-beginning"), help: "To the log start offset: process every record kept again.")
        var toBeginning = false

        @Flag(name: .customLong("to-end"), help: "To the log end offset: skip every record kept so far.")
        var toEnd = false

        @Option(name: .customLong("to-offset"), parsing: .unconditional, help: ArgumentHelp("To this offset in each partition reset.", valueName: "N"))
        var toOffset: Int64?

        @Option(
            name: .customLong("to-time"),
            help: ArgumentHelp("To the first record stamped at or after TIME (ISO 8601 or ms since the epoch).", valueName: "TIME"))
        var toTime: String?

        @Option(parsing: .unconditional, help: ArgumentHelp("Reset only this partition (default: all).", valueName: "P"))
        var partition: Int?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func validate() throws {
            let targets = [toBeginning, toEnd, toOffset != nil, toTime != nil].filter { $0 }.count
            guard targets == 1 else {
                throw ValidationError("Give exactly one of --to-beginning, --to-end, --to-offset and --to-time.")
            }
            if let toOffset, toOffset < 0 { throw ValidationError("--to-offset must not be negative.") }
            if let partition, partition < 0 { throw ValidationError("--partition must not be negative.") }
        }

        func run() async throws {
            try await reportingErrors {
                let target = try position()
                let (old, new) = try await storeOptions.resolved(parent: root.storeOptions).withStore(createIfMissing: false) { store in
                    let consumerGroup = try store.group(group, createIfMissing: false)
                    let topic = try store.topic(topic)
                    if let partition { _ = try topic.logEndOffset(partition: partition) }  // throws `.partitionOutOfRange`
                    let old = try consumerGroup.committedOffsets(topic: topic.name)
                    try await consumerGroup.reset(topic: topic.name, to: target, partitions: partition.map { [$0] })
                    return (old, try consumerGroup.committedOffsets(topic: topic.name))
                }
                let partitions = partition.map { [$0] } ?? new.keys.sorted()
                let output = BufferedOutput()
                if json {
                    let value = JSONValue.object([
                        ("group", .string(group)), ("topic", .string(topic)),
                        (
                            "partitions",
                            .array(
                                partitions.map { partition in
                                    .object([
                                        ("partition", .integer(Int64(partition))), ("oldOffset", .optional(old[partition])),
                                        ("newOffset", .optional(new[partition])),
                                    ])
                                })
                        ),
                    ])
                    value.write(to: output)
                    output.append("\n")
                } else {
                    output.append("Group \(group) on \(topic): committed offsets moved to \(describe(target)).\n")
                    var table = TextTable([("PARTITION", .right), ("OLD OFFSET", .right), ("NEW OFFSET", .right)])
                    for partition in partitions {
                        table.add([String(partition), old[partition].map(String.init) ?? "-", new[partition].map(String.init) ?? "-"])
                    }
                    output.append(table.render(indent: "  "))
                }
                try output.flush()
            }
        }

        private func position() throws -> StartPosition {
            if toEnd { return .end }
            if let toOffset { return .offset(toOffset) }
            if let toTime { return .timestamp(try Parsing.timeMilliseconds(toTime)) }
            return .beginning
        }

        private func describe(_ position: StartPosition) -> String {
            switch position {
            case .beginning: return "the log start"
            case .end: return "the log end"
            case .offset(let offset): return "offset \(offset) (within each partition's log)"
            case .timestamp(let milliseconds): return "the first record stamped at or after \(ISO8601.format(milliseconds: milliseconds))"
            }
        }
    }
}
