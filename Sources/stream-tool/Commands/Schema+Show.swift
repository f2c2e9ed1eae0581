import ArgumentParser
import StreamStore
import StreamStoreInspect

extension StreamTool.Schema {
    /// `stream-tool schema show TOPIC EVENT-TYPE`: the inferred shape of each version.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the shape of each version of an event type, inferred from a topic's events.",
            discussion: """
                Reads the EVENT-TYPE events of TOPIC (or those stamped between --from-time and \
                --until-time) and prints, per version: how many events, the first and the last \
                (PARTITION@OFFSET and time), and a row per field path (customer.name for a member \
                of an object, items[] for an array's elements, items[].sku for their members) \
                with its JSON types and whether every event has it (required) or how often it is \
                there and null (optional). Exits 1 when TOPIC has no event of that type.

                --json prints {"topic":...,"eventType":...,"versions":[...]}, the versions as in \
                schema check --json.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic to read.")
        var topic: String

        @Argument(help: "The event type (its event-type header).")
        var eventType: String

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        @OptionGroup var range: SchemaTimeRange

        func run() async throws {
            try await reportingErrors {
                let options = try range.scanOptions(eventType: eventType)
                let report = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    try await SchemaCommand.scan(try store.topic(topic), options: options)
                }
                guard let type = report.eventType(eventType) else {
                    throw ToolError("Topic \(topic) has no event of type \(eventType) (\(report.records) records read); schema check \(topic) lists its event types.")
                }
                let output = BufferedOutput()
                if json {
                    JSONValue.object([("topic", .string(topic)), ("eventType", .string(eventType)), ("versions", .array(type.versions.map(SchemaText.json)))])
                        .write(to: output)
                    output.append("\n")
                } else {
                    output.append(SchemaText.show(type))
                }
                try output.flush()
            }
        }
    }
}
