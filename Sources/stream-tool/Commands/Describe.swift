import ArgumentParser
import Foundation
import StreamStore

extension StreamTool {
    /// `stream-tool describe [TOPIC]`: topics' settings and partitions' offsets and sizes.
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show topics' settings and each partition's offsets, segments, size and timestamps.",
            discussion: """
                Per partition: log start offset (the oldest record kept), log end offset (the \
                offset the next record gets), segment files, bytes on disk, what they would take \
                uncompressed and the ratio, and the first and last record timestamps. Per topic: its settings, as kept in topic.json \
                (retentionMilliseconds and retentionBytes are -1 there when unlimited, \
                dedupeWindowMilliseconds -1 when de-duplication is off).

                --json prints {"topics":[{"name":...,"config":{...},"partitions":[{"partition":0, \
                "logStartOffset":...,"logEndOffset":...,"segmentCount":...,"logBytes":...,"uncompressedBytes":..., \
                "firstTimestamp":ms|null,"lastTimestamp":ms|null}],...}]}. A partition whose \
                first batch is corrupt shows its offsets only, with an "error" member saying why.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic to describe (default: every topic).")
        var topic: String?

        @Flag(help: "Print JSON instead of tables.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let topics = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    let names = topic.map { [$0] } ?? store.topicNames
                    return try names.map { (name) throws(StreamStoreError) -> TopicDescription in
                        let topic = try store.topic(name)
                        let partitions = try (0..<topic.partitionCount).map { (index) throws(StreamStoreError) in try PartitionSummary(topic: topic, partition: index) }
                        return TopicDescription(name: name, config: topic.config, partitions: partitions)
                    }
                }
                let output = BufferedOutput()
                if json {
                    writeJSON(topics, to: output)
                } else {
                    writeText(topics, to: output)
                }
                try output.flush()
            }
        }

        private func writeJSON(_ topics: [TopicDescription], to output: BufferedOutput) {
            let value = JSONValue.object([
                (
                    "topics",
                    .array(
                        topics.map { topic in
                            .object([
                                ("name", .string(topic.name)),
                                ("config", .raw(topic.configJSON)),
                                ("partitions", .array(topic.partitions.map(Self.json))),
                            ])
                        })
                )
            ])
            value.write(to: output)
            output.append(UInt8(ascii: "\n"))
        }

        private static func json(_ info: PartitionSummary) -> JSONValue {
            var members: [(String, JSONValue)] = [
                ("partition", .integer(Int64(info.partition))),
                ("logStartOffset", .integer(info.logStartOffset)),
                ("logEndOffset", .integer(info.logEndOffset)),
                ("segmentCount", .optional(info.segmentCount.map(Int64.init))),
                ("logBytes", .optional(info.logBytes)),
                ("uncompressedBytes", .optional(info.uncompressedBytes)),
                ("firstTimestamp", .optional(info.firstTimestamp)),
                ("lastTimestamp", .optional(info.lastTimestamp)),
            ]
            if let error = info.error { members.append(("error", .string(error))) }
            return .object(members)
        }

        /// `3.2x`: uncompressed bytes over bytes on disk.
        static func ratio(_ uncompressed: Int64?, _ stored: Int64?) -> String {
            guard let uncompressed, let stored, stored > 0 else { return "-" }
            return String(format: "%.1fx", Double(uncompressed) / Double(stored))
        }

        private func writeText(_ topics: [TopicDescription], to output: BufferedOutput) {
            if topics.isEmpty {
                output.append("No topics. Create one with: stream-tool create TOPIC\n")
                return
            }
            for (index, topic) in topics.enumerated() {
                if index > 0 { output.append(UInt8(ascii: "\n")) }
                output.append("Topic \(topic.name)\n")
                output.append("  config: \(topic.configText)\n")
                var table = TextTable([
                    ("PARTITION", .right), ("LOG START", .right), ("LOG END", .right), ("RECORDS", .right), ("SEGMENTS", .right),
                    ("BYTES", .right), ("UNCOMPRESSED", .right), ("RATIO", .right), ("FIRST TIMESTAMP", .left), ("LAST TIMESTAMP", .left),
                ])
                for info in topic.partitions {
                    table.add([
                        String(info.partition), String(info.logStartOffset), String(info.logEndOffset),
                        String(info.logEndOffset - info.logStartOffset), info.segmentCount.map(String.init) ?? "?",
                        info.logBytes.map(Format.bytes) ?? "?",
                        info.uncompressedBytes.map(Format.bytes) ?? "?", Self.ratio(info.uncompressedBytes, info.logBytes),
                        info.firstTimestamp.map { ISO8601.format(milliseconds: $0) } ?? (info.error == nil ? "-" : "?"),
                        info.lastTimestamp.map { ISO8601.format(milliseconds: $0) } ?? (info.error == nil ? "-" : "?"),
                    ])
                }
                if topic.partitions.count > 1 {
                    let records = topic.partitions.reduce(Int64(0)) { $0 + $1.logEndOffset - $1.logStartOffset }
                    let first = topic.partitions.compactMap(\.firstTimestamp).min()
                    let last = topic.partitions.compactMap(\.lastTimestamp).max()
                    table.add([
                        "all", "", "", String(records), String(topic.partitions.reduce(0) { $0 + ($1.segmentCount ?? 0) }),
                        Format.bytes(topic.partitions.reduce(Int64(0)) { $0 + ($1.logBytes ?? 0) }),
                        Format.bytes(topic.partitions.reduce(Int64(0)) { $0 + ($1.uncompressedBytes ?? 0) }),
                        Self.ratio(
                            topic.partitions.reduce(Int64(0)) { $0 + ($1.uncompressedBytes ?? 0) },
                            topic.partitions.reduce(Int64(0)) { $0 + ($1.logBytes ?? 0) }),
                        first.map { ISO8601.format(milliseconds: $0) } ?? "-", last.map { ISO8601.format(milliseconds: $0) } ?? "-",
                    ])
                }
                output.append(table.render(indent: "  "))
                for info in topic.partitions {
                    if let error = info.error { output.append("  partition \(info.partition): \(error)\n") }
                }
            }
        }
    }
}

/// One topic as `describe` shows it.
private struct TopicDescription {
    var name: String
    var config: TopicConfig
    var partitions: [PartitionSummary]

    /// The config as `topic.json` spells it (its `Codable` form), keys sorted, so settings added
    /// to ``TopicConfig`` later show up here without touching this command.
    var configJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(config) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// `flush=everyAppend partitionCount=4 segmentBytes=1.0 GiB …`: the same settings for people,
    /// with `…Bytes` as sizes and `…Milliseconds` as durations.
    var configText: String {
        guard let data = configJSON.data(using: .utf8),
            let settings = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return String(describing: config) }
        return settings.keys.sorted().map { key -> String in
            let value = settings[key] ?? NSNull()
            if key == "flush" { return "flush=\(TopicSettingsText.flush(config.flush))" }
            if key == "retentionMilliseconds" { return "retentionMilliseconds=\(TopicSettingsText.retention(config.retentionMilliseconds))" }
            if key == "retentionBytes" { return "retentionBytes=\(TopicSettingsText.byteLimit(config.retentionBytes))" }
            if key == "dedupeWindowMilliseconds" { return "dedupeWindowMilliseconds=\(TopicSettingsText.dedupeWindow(config.dedupeWindowMilliseconds))" }
            if key == "compression" { return "compression=\(config.compression.configValue)" }
            if let number = value as? NSNumber, !(value is Bool) {
                let amount = number.int64Value
                if key.hasSuffix("Bytes") { return "\(key)=\(Format.bytes(amount))" }
                if key.hasSuffix("Milliseconds") { return "\(key)=\(Format.duration(milliseconds: amount))" }
                return "\(key)=\(amount)"
            }
            if value is NSNull { return "\(key)=none" }
            return "\(key)=\(value)"
        }.joined(separator: " ")
    }
}

/// A partition's row: the store's ``PartitionInfo``, or, when that cannot be read (a corrupt
/// first batch makes `info` throw), the offsets alone and why the rest is missing, so one damaged
/// partition does not hide the others: `describe` is what an operator runs on a damaged store.
private struct PartitionSummary {
    var partition: Int
    var logStartOffset: Int64
    var logEndOffset: Int64
    var segmentCount: Int?
    var logBytes: Int64?
    var uncompressedBytes: Int64?
    var firstTimestamp: Int64?
    var lastTimestamp: Int64?
    var error: String?

    init(topic: Topic, partition: Int) throws(StreamStoreError) {
        self.partition = partition
        do {
            let info = try topic.info(partition: partition)
            logStartOffset = info.logStartOffset
            logEndOffset = info.logEndOffset
            segmentCount = info.segmentCount
            logBytes = info.logBytes
            uncompressedBytes = info.uncompressedBytes
            firstTimestamp = info.firstTimestamp
            lastTimestamp = info.lastTimestamp
        } catch where error.code == .corruptBatch {
            logStartOffset = try topic.logStartOffset(partition: partition)
            logEndOffset = try topic.logEndOffset(partition: partition)
            self.error = error.message
        }
    }
}
