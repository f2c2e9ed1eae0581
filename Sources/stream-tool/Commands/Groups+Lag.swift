import ArgumentParser
import StreamStore

extension StreamTool.Groups {
    /// `stream-tool groups lag [GROUP]`: how far each group is behind, per topic and partition.
    struct Lag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show how far consumer groups are behind, in records and in time.",
            discussion: """
                Per group, topic and partition: the committed offset (the next one the group \
                processes; - when it never committed the partition), the log end offset, the lag \
                in records (from the committed offset, or the log start, to the log end), the \
                lag in time (the age of the oldest record not processed yet), and when the \
                offset was committed. A note says when retention removed records the group had \
                not processed. Every group, unless GROUP is given.

                --json prints {"groups":[{"name":...,"topics":[{"topic":...,"lagRecords":..., \
                "lagMilliseconds":...,"partitions":[{"partition":0,"committedOffset":N|null, \
                "committedTimestamp":ms|null,"logStartOffset":...,"logEndOffset":..., \
                "lagRecords":...,"lagMilliseconds":...,"committedBelowLogStart":false}]}]}]}; a \
                topic's lagMilliseconds is its partitions' largest.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The consumer group (default: every group).")
        var group: String?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        /// One group's lag, by topic in the order the group reports them.
        struct GroupLag {
            var name: String
            var topics: [(topic: String, partitions: [PartitionLag])]
        }

        func run() async throws {
            try await reportingErrors {
                let lags = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    try GroupSelection.groups(group, in: store).map { (group) throws(StreamStoreError) -> GroupLag in
                        let partitions = try group.lag()
                        var topics: [(topic: String, partitions: [PartitionLag])] = []
                        for lag in partitions {
                            if topics.last?.topic == lag.topic {
                                topics[topics.count - 1].partitions.append(lag)
                            } else {
                                topics.append((lag.topic, [lag]))
                            }
                        }
                        return GroupLag(name: group.name, topics: topics)
                    }
                }
                let output = BufferedOutput()
                if json {
                    Self.json(lags).write(to: output)
                    output.append("\n")
                } else if lags.isEmpty {
                    output.append(GroupSelection.noGroupsText)
                } else {
                    output.append(Self.text(lags))
                }
                try output.flush()
            }
        }

        static func json(_ lags: [GroupLag]) -> JSONValue {
            .object([
                (
                    "groups",
                    .array(
                        lags.map { group in
                            .object([
                                ("name", .string(group.name)),
                                (
                                    "topics",
                                    .array(
                                        group.topics.map { topic in
                                            .object([
                                                ("topic", .string(topic.topic)),
                                                ("lagRecords", .integer(topic.partitions.reduce(0) { $0 + $1.lagRecords })),
                                                ("lagMilliseconds", .integer(topic.partitions.map(\.lagMilliseconds).max() ?? 0)),
                                                ("partitions", .array(topic.partitions.map(json))),
                                            ])
                                        })
                                ),
                            ])
                        })
                )
            ])
        }

        private static func json(_ lag: PartitionLag) -> JSONValue {
            .object([
                ("partition", .integer(Int64(lag.partition))),
                ("committedOffset", .optional(lag.committedOffset)),
                ("committedTimestamp", .optional(lag.committedMilliseconds)),
                ("logStartOffset", .integer(lag.logStartOffset)),
                ("logEndOffset", .integer(lag.logEndOffset)),
                ("lagRecords", .integer(lag.lagRecords)),
                ("lagMilliseconds", .integer(lag.lagMilliseconds)),
                ("committedBelowLogStart", .bool(lag.committedBelowLogStart)),
            ])
        }

        static func text(_ lags: [GroupLag]) -> String {
            let rows = lags.flatMap { group in group.topics.flatMap { topic in topic.partitions } }
            let withNotes = rows.contains { $0.committedBelowLogStart }
            var columns: [(String, TextTable.Alignment)] = [
                ("GROUP", .left), ("TOPIC", .left), ("PARTITION", .right), ("COMMITTED", .right), ("LOG END", .right),
                ("LAG", .right), ("LAG TIME", .right), ("COMMITTED AT", .left),
            ]
            if withNotes { columns.append(("NOTE", .left)) }
            var table = TextTable(columns)
            var groupsWithoutTopics: [String] = []
            for group in lags {
                if group.topics.isEmpty { groupsWithoutTopics.append(group.name) }
                for topic in group.topics {
                    for lag in topic.partitions {
                        var row = [
                            group.name, topic.topic, String(lag.partition), lag.committedOffset.map(String.init) ?? "-", String(lag.logEndOffset),
                            String(lag.lagRecords), lagTime(lag.lagMilliseconds, records: lag.lagRecords),
                            lag.committedMilliseconds.map { ISO8601.format(milliseconds: $0) } ?? "-",
                        ]
                        if withNotes {
                            row.append(lag.committedBelowLogStart ? "retention removed records it had not processed (log start \(lag.logStartOffset))" : "")
                        }
                        table.add(row)
                    }
                    guard topic.partitions.count > 1 else { continue }
                    let records = topic.partitions.reduce(Int64(0)) { $0 + $1.lagRecords }
                    var total = [
                        group.name, topic.topic, "all", "", "", String(records),
                        lagTime(topic.partitions.map(\.lagMilliseconds).max() ?? 0, records: records),
                        topic.partitions.compactMap(\.committedMilliseconds).max().map { ISO8601.format(milliseconds: $0) } ?? "-",
                    ]
                    if withNotes { total.append("") }
                    table.add(total)
                }
            }
            var text = table.render()
            for name in groupsWithoutTopics {
                text += "Group \(name) has no offsets for an existing topic.\n"
            }
            return text
        }

        /// `2m 05s` behind, or `-` when caught up.
        static func lagTime(_ milliseconds: Int64, records: Int64) -> String {
            records == 0 ? "-" : Format.age(milliseconds: milliseconds)
        }
    }
}
