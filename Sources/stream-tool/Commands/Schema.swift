import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool schema check|show`: the event types and versions of a topic, the shape of
    /// each version inferred from its JSON, and every change that is not additive (CLI.md).
    struct Schema: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Event types and versions in a topic, their inferred shapes, and changes that are not additive.",
            discussion: """
                Records with an event-type header are events; their schema-version header (a \
                number from 1, or 1 when absent) says which version of the type's shape their \
                JSON value has. check reads a topic once and reports each event type's versions \
                and every change that breaks readers: a field removed, renamed, retyped or made \
                required, between consecutive versions or inside one; show prints the shape of \
                each version of one event type.
                """,
            subcommands: [Check.self, Show.self])
    }
}
