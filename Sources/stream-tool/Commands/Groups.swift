import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool groups list|lag|reset`: consumer groups, their committed offsets and lag.
    ///
    /// A group exists once it committed an offset (`replay --group G --commit`, or a
    /// ``Consumer`` of the library); these commands never create one.
    struct Groups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Consumer groups: their committed offsets, lag, and resets.",
            discussion: """
                A consumer group commits, per topic and partition, the next offset it will \
                process. A group exists once it has committed: stream-tool replay TOPIC \
                --group G --commit commits what it prints, and so do the library's consumers.
                """,
            subcommands: [List.self, Lag.self, Reset.self])
    }
}

/// The groups a `groups` subcommand reports on: the one named (which must exist), or all.
enum GroupSelection {
    static func groups(_ name: String?, in store: Store) throws(StreamStoreError) -> [ConsumerGroup] {
        if let name { return [try store.group(name, createIfMissing: false)] }
        return try store.groupNames().map { (name) throws(StreamStoreError) in try store.group(name, createIfMissing: false) }
    }

    /// What `groups list` and `groups lag` print when the store has no group yet.
    static let noGroupsText = "No consumer groups. A group appears once it commits, e.g. stream-tool replay TOPIC --group G --commit\n"
}
