import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool retention [TOPIC]`: applies retention now, or with `--dry-run` says what it
    /// would delete, and why every other segment stays.
    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply retention now: delete expired segments, or list what would go.",
            discussion: """
                Retention deletes whole segments, oldest first: those whose newest record is \
                older than the topic's retention (time), then more while a partition holds more \
                than its retention-bytes (size). The store also does this by itself every 5 \
                minutes while it is open. Set both with create or alter.

                Prints, per partition, the log start offset before and after (the oldest offset \
                kept) and the bytes before and after; then the segments, consecutive ones that \
                share an outcome on one row: their offsets (base offset to next offset), count, \
                bytes, newest record, and why each is deleted or what keeps it. --dry-run \
                deletes nothing and says what would go.

                --json prints {"dryRun":...,"partitions":[{"topic":...,"partition":0, \
                "logStartOffsetBefore":...,"logStartOffset":...,"bytesBefore":..., \
                "bytesAfter":...,"deleted":[{"baseOffset":...,"nextOffset":...,"bytes":..., \
                "maxTimestamp":ms|null,"reason":"time"|"size"}],"kept":[{...,"reason":...}]}], \
                "deletedSegments":...,"deletedBytes":...}; with --dry-run, logStartOffset and \
                bytesAfter are what they would be.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic (default: every topic).")
        var topic: String?

        @Flag(name: .customLong("dry-run"), help: "Delete nothing; show what would be deleted.")
        var dryRun = false

        @Flag(help: "Print JSON instead of tables.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let options = storeOptions.resolved(parent: root.storeOptions)
                // A dry run changes nothing, so it reads beside a running writer.
                let run: (Store) async throws -> ([PartitionRetention], [String: TopicConfig]) = { store in
                    let reports = try store.enforceRetention(topic: topic, dryRun: dryRun)
                    var configs: [String: TopicConfig] = [:]
                    for name in Set(reports.map(\.topic)) { configs[name] = try store.topic(name).config }
                    return (reports, configs)
                }
                let (reports, configs) = dryRun ? try await options.withReadOnlyStore(run) : try await options.withStore(createIfMissing: false, run)
                let output = BufferedOutput()
                if json {
                    RetentionReportText.json(reports, dryRun: dryRun).write(to: output)
                    output.append("\n")
                } else {
                    output.append(RetentionReportText.text(reports, configs: configs, dryRun: dryRun))
                }
                try output.flush()
            }
        }
    }
}

/// The `retention` command's output, text and JSON.
enum RetentionReportText {
    static func json(_ reports: [PartitionRetention], dryRun: Bool) -> JSONValue {
        func segment(_ segment: SegmentRetention) -> JSONValue {
            .object([
                ("baseOffset", .integer(segment.baseOffset)), ("nextOffset", .integer(segment.nextOffset)),
                ("bytes", .integer(segment.sizeBytes)), ("maxTimestamp", .optional(segment.maxTimestamp)), ("reason", .string(segment.reason)),
            ])
        }
        let deleted = reports.flatMap(\.deleted)
        return .object([
            ("dryRun", .bool(dryRun)),
            (
                "partitions",
                .array(
                    reports.map { report in
                        .object([
                            ("topic", .string(report.topic)), ("partition", .integer(Int64(report.partition))),
                            ("logStartOffsetBefore", .integer(report.logStartOffsetBefore)), ("logStartOffset", .integer(report.logStartOffset)),
                            ("bytesBefore", .integer(report.bytesBefore)), ("bytesAfter", .integer(report.bytesAfter)),
                            ("deleted", .array(report.deleted.map(segment))), ("kept", .array(report.kept.map(segment))),
                        ])
                    })
            ),
            ("deletedSegments", .integer(Int64(deleted.count))),
            ("deletedBytes", .integer(deleted.reduce(0) { $0 + $1.sizeBytes })),
        ])
    }

    static func text(_ reports: [PartitionRetention], configs: [String: TopicConfig], dryRun: Bool) -> String {
        guard !reports.isEmpty else { return "No topics. Create one with: stream-tool create TOPIC\n" }
        var partitions = TextTable([
            ("TOPIC", .left), ("PARTITION", .right), ("LOG START", .right), ("NEW LOG START", .right), ("DELETED", .right),
            ("BYTES BEFORE", .right), ("BYTES AFTER", .right),
        ])
        var segments = TextTable([
            ("TOPIC", .left), ("PARTITION", .right), ("BASE OFFSET", .right), ("NEXT OFFSET", .right), ("SEGMENTS", .right),
            ("BYTES", .right), ("NEWEST RECORD", .left), ("ACTION", .left), ("REASON", .left),
        ])
        for report in reports {
            partitions.add([
                report.topic, String(report.partition), String(report.logStartOffsetBefore), String(report.logStartOffset),
                String(report.deleted.count), Format.bytes(report.bytesBefore), Format.bytes(report.bytesAfter),
            ])
            let config = configs[report.topic]
            let deleted = report.deleted.map { (segment: $0, action: dryRun ? "would delete" : "deleted", reason: deletionReason($0.reason, config: config)) }
            let kept = report.kept.map { (segment: $0, action: "kept", reason: $0.reason) }
            for run in runs(deleted + kept) {
                let newest = run.map(\.segment).compactMap(\.maxTimestamp).max()
                segments.add([
                    report.topic, String(report.partition), String(run[0].segment.baseOffset), String(run[run.count - 1].segment.nextOffset),
                    String(run.count), Format.bytes(run.reduce(0) { $0 + $1.segment.sizeBytes }),
                    newest.map { ISO8601.format(milliseconds: $0) } ?? "-", run[0].action, run[0].reason,
                ])
            }
        }
        let deleted = reports.flatMap(\.deleted)
        let bytes = Format.bytes(deleted.reduce(0) { $0 + $1.sizeBytes })
        let summary: String
        if deleted.isEmpty {
            summary = "Nothing to delete: every segment is kept, for the reasons above."
        } else if dryRun {
            summary = "Dry run: \(Format.count(Int64(deleted.count), "segment")) (\(bytes)) would be deleted; nothing was. Run without --dry-run to delete."
        } else {
            summary = "Deleted \(Format.count(Int64(deleted.count), "segment")) (\(bytes)); the partitions now start at their new log start offsets."
        }
        return partitions.render() + "\n" + segments.render() + "\n" + summary + "\n"
    }

    /// Consecutive segments with the same action and reason, each run in offset order.
    private static func runs(_ segments: [(segment: SegmentRetention, action: String, reason: String)]) -> [[(segment: SegmentRetention, action: String, reason: String)]] {
        var runs: [[(segment: SegmentRetention, action: String, reason: String)]] = []
        for segment in segments {
            if let last = runs.last?.last, last.action == segment.action, last.reason == segment.reason {
                runs[runs.count - 1].append(segment)
            } else {
                runs.append([segment])
            }
        }
        return runs
    }

    /// The store's `time` and `size` as a sentence with the topic's setting.
    static func deletionReason(_ reason: String, config: TopicConfig?) -> String {
        switch reason {
        case "time":
            return "its newest record is older than the retention of \(TopicSettingsText.retention(config?.retentionMilliseconds))"
        case "size":
            return "the partition is over its retention-bytes of \(TopicSettingsText.byteLimit(config?.retentionBytes))"
        default:
            return reason
        }
    }
}
