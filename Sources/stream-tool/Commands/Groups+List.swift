import ArgumentParser
import StreamStore

extension StreamTool.Groups {
    /// `stream-tool groups list`: every consumer group and the topics it committed offsets for.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the consumer groups and the topics each has committed offsets for.",
            discussion: """
                --json prints {"groups":[{"name":"billing","topics":["orders"]}]}.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let groups = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    try GroupSelection.groups(nil, in: store).map { (group) throws(StreamStoreError) in (name: group.name, topics: try group.topics()) }
                }
                let output = BufferedOutput()
                if json {
                    let value = JSONValue.object([
                        ("groups", .array(groups.map { .object([("name", .string($0.name)), ("topics", .array($0.topics.map(JSONValue.string)))]) }))
                    ])
                    value.write(to: output)
                    output.append("\n")
                } else if groups.isEmpty {
                    output.append(GroupSelection.noGroupsText)
                } else {
                    var table = TextTable([("GROUP", .left), ("TOPICS", .left)])
                    for group in groups { table.add([group.name, group.topics.joined(separator: ", ")]) }
                    output.append(table.render())
                }
                try output.flush()
            }
        }
    }
}
