import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool alter TOPIC --…`: changes a topic's settings after creation, through
    /// ``Store/updateTopic(_:_:)``, and prints what changed.
    struct Alter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a topic's settings.",
            discussion: """
                Changes only the settings given, and prints each one that changed with its old \
                and new value (nothing changes when they already have those values). The \
                partition count is fixed at creation.

                Retention applies at the next retention run (stream-tool retention runs one \
                now); compression, flush and segment-bytes apply from the next append: batches \
                already written keep their codec, and segments their size; a new \
                --dedupe-window is rebuilt from the log at once. The values are \
                spelled as create takes them (see stream-tool create --help).
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic to change.")
        var topic: String

        @Option(help: ArgumentHelp("Delete segments whose newest record is older than this, e.g. 30d, or unlimited.", valueName: "DURATION"))
        var retention: String?

        @Option(
            name: .customLong("retention-bytes"),
            help: ArgumentHelp("Delete the oldest segments while a partition holds more, e.g. 10GiB, or unlimited.", valueName: "BYTES"))
        var retentionBytes: String?

        @Option(help: ArgumentHelp("Batch compression from now on: none or zstd[:LEVEL].", valueName: "CODEC"))
        var compression: String?

        @Option(help: ArgumentHelp("When appends are fsynced: always, never or interval:DURATION.", valueName: "POLICY"))
        var flush: String?

        @Option(name: .customLong("segment-bytes"), help: ArgumentHelp("Roll to a new segment file at this size, e.g. 256MiB.", valueName: "BYTES"))
        var segmentBytes: String?

        @Option(
            name: .customLong("dedupe-window"),
            help: ArgumentHelp("Drop records whose message-id was appended within this, e.g. 10m, or off.", valueName: "DURATION"))
        var dedupeWindow: String?

        func validate() throws {
            guard [retention, retentionBytes, compression, flush, segmentBytes, dedupeWindow].contains(where: { $0 != nil }) else {
                throw ValidationError(
                    "Give at least one setting to change: --retention, --retention-bytes, --compression, --flush, --segment-bytes or --dedupe-window.")
            }
        }

        func run() async throws {
            try await reportingErrors {
                // Every value is parsed before the store is opened: a typo changes nothing.
                let change = try settingsChange()
                let (old, new) = try await storeOptions.resolved(parent: root.storeOptions).withStore(createIfMissing: false) { store in
                    let old = try store.topic(topic).config
                    var wanted = old
                    change(&wanted)
                    try Create.checkFlags(wanted)
                    return (old, try store.updateTopic(topic, change))
                }
                let changes = TopicSettingsText.changes(from: old, to: new)
                guard !changes.isEmpty else {
                    print("Topic \(topic) unchanged: it already has those settings (\(TopicSettingsText.summary(new))).")
                    return
                }
                print("Changed topic \(topic):")
                var table = TextTable([("SETTING", .left), ("OLD", .left), ("NEW", .left)])
                for change in changes { table.add([change.name, change.old, change.new]) }
                print(table.render(indent: "  "), terminator: "")
            }
        }

        /// The flags as one change to a config.
        private func settingsChange() throws -> @Sendable (inout TopicConfig) -> Void {
            let retentionMilliseconds = try retention.map { (text) throws(ToolError) in try Parsing.durationLimitMilliseconds(text, for: "retention") }
            let retentionBytes = try self.retentionBytes.map { (text) throws(ToolError) in try Parsing.byteLimit(text, for: "retention-bytes") }
            let codec = try compression.map { (text) throws(ToolError) -> Compression in
                guard let codec = Compression(configValue: text) else {
                    throw ToolError("\"\(text)\" is not a compression: use none, zstd or zstd:LEVEL (like zstd:3).")
                }
                return codec
            }
            let window = try dedupeWindow.map { (text) throws(ToolError) in try Parsing.dedupeWindowMilliseconds(text) }
            let policy = try flush.map { (text) throws(ToolError) in try Create.flushPolicy(text) }
            let segmentBytes = try self.segmentBytes.map { (text) throws(ToolError) -> Int in
                let bytes = try Parsing.byteCount(text, for: "segment size")
                guard let value = Int(exactly: bytes) else { throw ToolError("The segment size \(text) is too large.") }
                return value
            }
            return { config in
                if let retentionMilliseconds { config.retentionMilliseconds = retentionMilliseconds }
                if let retentionBytes { config.retentionBytes = retentionBytes }
                if let codec { config.compression = codec }
                if let policy { config.flush = policy }
                if let segmentBytes { config.segmentBytes = segmentBytes }
                if let window { config.dedupeWindowMilliseconds = window }
            }
        }
    }
}
