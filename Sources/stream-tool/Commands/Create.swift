import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool create TOPIC`: makes a topic with the given settings.
    ///
    /// Creating a topic that exists with the same settings succeeds and changes nothing, so
    /// scripts can run it every time; one that exists with other settings is an error.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a topic.",
            discussion: """
                Creates the store folder too when it is missing. Succeeds without changes when \
                the topic exists with the same settings, and fails when it exists with others.

                Flush policies: always (fsync before each append returns; the default, and \
                durable), never (the operating system writes back when it likes; fastest), \
                interval:DURATION (fsync at most DURATION after an append, e.g. interval:200ms).

                Compression: none (the default) or zstd[:LEVEL] (level 3 when omitted; 1 is \
                fastest, 19 smallest). Batches are compressed as Kafka does it (codec 4).

                Retention deletes a partition's oldest segments once their newest record is \
                older than --retention (default 7d), and while the partition holds more than \
                --retention-bytes (default unlimited); unlimited (or none) turns either off. \
                Change any setting but the partition count later with stream-tool alter.

                De-duplication (--dedupe-window, default off): a record whose message-id \
                header the topic appended less than DURATION ago is not appended again; \
                produce --print-offsets then prints the original's partition and offset.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic name: 1 to 249 of a-z A-Z 0-9 . _ -")
        var topic: String

        @Option(help: ArgumentHelp("Number of partitions (1 to 10000).", valueName: "N"))
        var partitions: Int = 1

        @Option(help: ArgumentHelp("When appends are fsynced: always, never or interval:DURATION.", valueName: "POLICY"))
        var flush: String = "always"

        @Option(help: ArgumentHelp("Batch compression: none or zstd[:LEVEL] (default none).", valueName: "CODEC"))
        var compression: String = "none"

        @Option(
            name: .customLong("segment-bytes"),
            help: ArgumentHelp("Roll to a new segment file at this size, e.g. 256MiB (default 1GiB).", valueName: "BYTES"))
        var segmentBytes: String?

        @Option(help: ArgumentHelp("Delete segments whose newest record is older than this, e.g. 30d, or unlimited (default 7d).", valueName: "DURATION"))
        var retention: String?

        @Option(
            name: .customLong("retention-bytes"),
            help: ArgumentHelp("Delete the oldest segments while a partition holds more, e.g. 10GiB (default unlimited).", valueName: "BYTES"))
        var retentionBytes: String?

        @Option(
            name: .customLong("dedupe-window"),
            help: ArgumentHelp("Drop records whose message-id header was appended within this, e.g. 10m (default off).", valueName: "DURATION"))
        var dedupeWindow: String?

        func run() async throws {
            try await reportingErrors {
                var config = TopicConfig(partitionCount: partitions, flush: try Self.flushPolicy(flush))
                guard let codec = Compression(configValue: compression) else {
                    throw ToolError("\"\(compression)\" is not a compression: use none, zstd or zstd:LEVEL (like zstd:3).")
                }
                config.compression = codec
                if let segmentBytes {
                    let bytes = try Parsing.byteCount(segmentBytes, for: "segment size")
                    guard let value = Int(exactly: bytes) else { throw ToolError("The segment size \(segmentBytes) is too large.") }
                    config.segmentBytes = value
                }
                if let retention { config.retentionMilliseconds = try Parsing.durationLimitMilliseconds(retention, for: "retention") }
                if let retentionBytes { config.retentionBytes = try Parsing.byteLimit(retentionBytes, for: "retention-bytes") }
                if let dedupeWindow { config.dedupeWindowMilliseconds = try Parsing.dedupeWindowMilliseconds(dedupeWindow) }
                // Checked before the store is opened, so a typo never leaves a new empty store behind.
                try Self.checkFlags(config)
                try config.validate()
                let existed = try await storeOptions.resolved(parent: root.storeOptions).withStore(createIfMissing: true) { store in
                    let existed = store.topicNames.contains(topic)
                    if existed, case let current = try store.topic(topic).config, current != config {
                        let differences = Self.differences(current, requested: config).joined(separator: "; ")
                        throw ToolError("Topic \(topic) exists with other settings: \(differences). Pick another name, or create it with the settings it has.")
                    }
                    _ = try store.createTopic(topic, config: config)
                    return existed
                }
                let settings = TopicSettingsText.summary(config)
                print(existed ? "Topic \(topic) already exists with the same settings (\(settings))." : "Created topic \(topic) (\(settings)).")
            }
        }

        /// `always`, `never`, `interval:DURATION`; the store's own spellings (`everyAppend`,
        /// `interval:<ms>` without a unit) are accepted too.
        static func flushPolicy(_ text: String) throws(ToolError) -> FlushPolicy {
            switch text {
            case "always", "everyAppend": return .everyAppend
            case "never": return .never
            default:
                guard text.hasPrefix("interval:") else {
                    throw ToolError("\"\(text)\" is not a flush policy: use always, never or interval:DURATION (like interval:200ms).")
                }
                let duration = String(text.dropFirst("interval:".count))
                if let milliseconds = Parsing.wholeNumber(Substring(duration)), milliseconds > 0 {
                    return .interval(milliseconds: milliseconds)
                }
                return .interval(milliseconds: try Parsing.durationMilliseconds(duration, for: "flush interval"))
            }
        }

        /// The ranges of the settings this command sets, with the flags' names in the message
        /// (the store's own check names the fields of topic.json instead).
        static func checkFlags(_ config: TopicConfig) throws(ToolError) {
            guard (1...Limits.maxPartitions).contains(config.partitionCount) else {
                throw ToolError("--partitions must be 1 to \(Limits.maxPartitions), not \(config.partitionCount).")
            }
            guard (Limits.minSegmentBytes...Limits.maxSegmentBytes).contains(config.segmentBytes) else {
                throw ToolError(
                    "--segment-bytes must be \(Limits.minSegmentBytes) to \(Limits.maxSegmentBytes) bytes (4KiB to 2GiB less one byte), not \(config.segmentBytes).")
            }
            if case .zstd(let level) = config.compression, !Compression.zstdLevels.contains(level) {
                throw ToolError(
                    "--compression zstd:\(level): the level must be \(Compression.zstdLevels.lowerBound) to \(Compression.zstdLevels.upperBound) (1 is fastest, 19 smallest, 3 the default).")
            }
        }

        /// How an existing topic's settings differ from those asked for, as "name is X, not Y"
        /// phrases, in the command line's spellings where the store's differ: it spells the
        /// flush policy the way `topic.json` does (`everyAppend`, `interval:200`) and retention
        /// in milliseconds and bytes, which is not what `--flush` and `--retention` take.
        static func differences(_ current: TopicConfig, requested: TopicConfig) -> [String] {
            current.differences(from: requested).map { phrase in
                if phrase.hasPrefix("flush is ") {
                    return "flush is \(TopicSettingsText.flush(current.flush)), not \(TopicSettingsText.flush(requested.flush))"
                }
                if phrase.hasPrefix("retentionMilliseconds is ") {
                    return "retention is \(TopicSettingsText.retention(current.retentionMilliseconds)), not \(TopicSettingsText.retention(requested.retentionMilliseconds))"
                }
                if phrase.hasPrefix("dedupeWindowMilliseconds is ") {
                    return "dedupe-window is \(TopicSettingsText.dedupeWindow(current.dedupeWindowMilliseconds)), not \(TopicSettingsText.dedupeWindow(requested.dedupeWindowMilliseconds))"
                }
                if phrase.hasPrefix("retentionBytes is ") {
                    return "retention-bytes is \(TopicSettingsText.byteLimit(current.retentionBytes)), not \(TopicSettingsText.byteLimit(requested.retentionBytes))"
                }
                return phrase
            }
        }
    }
}
