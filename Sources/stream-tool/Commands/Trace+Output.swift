import StreamStore
import StreamToolSupport

/// The `trace` command's output: a time-ordered table with a column per consumer group, or one
/// JSON document (the shape is in `stream-tool trace --help` and the README).
enum TraceReportText {
    /// What a group's cell says about a record.
    static let processed = "✓"
    static let pending = "pending"
    static let notConsumed = "-"

    static func text(_ report: TraceReport, colours: Colours) -> String {
        var text = ""
        let groups = report.groupNames
        if report.records.isEmpty {
            text += "No record has correlation id \(report.correlationID).\n"
        } else {
            var rows: [[String]] = []
            for record in report.records {
                var row = [
                    ISO8601.format(milliseconds: record.timestamp), record.topic, String(record.partition), String(record.offset),
                    record.eventType ?? "-", record.messageID ?? "-", record.causationID ?? "-",
                ]
                for group in groups {
                    let progress = record.groups.first { $0.group == group }
                    row.append(progress.map { $0.processed ? processed : pending } ?? notConsumed)
                }
                rows.append(row)
            }
            let titles = ["TIME", "TOPIC", "PARTITION", "OFFSET", "EVENT TYPE", "MESSAGE ID", "CAUSATION ID"] + groups
            let alignments: [TextTable.Alignment] = [.left, .left, .right, .right, .left, .left, .left] + groups.map { _ in .left }
            let columns = titles.indices.map { column in
                (title: titles[column], width: rows.map { $0[column].count }.max() ?? 0, alignment: alignments[column])
            }
            let table = StreamingTable(columns)
            let style: (String) -> String = { cell in
                cell == processed ? colours.green(cell) : cell == pending ? colours.yellow(cell) : cell
            }
            var colour: [Int: (String) -> String] = [:]
            for index in groups.indices { colour[7 + index] = style }
            text += table.titles
            for row in rows { text += table.row(row, colour: colour) }
            let topics = Array(Set(report.records.map(\.topic))).sorted()
            text += "\n\(Format.count(Int64(report.records.count), "record")) of correlation id \(report.correlationID) in "
                + "\(Format.count(Int64(topics.count), "topic")) (\(topics.joined(separator: ", "))).\n"
        }
        text += statisticsSentence(report.statistics) + "\n"
        for problem in report.problems {
            text += colours.red("warning:") + " part of the log could not be read, so this trace may miss records: \(problem). Run stream-tool verify.\n"
        }
        return text
    }

    /// `Scanned 3 segments, skipped 12 by their correlation filters; read 1.2 KiB in 1.8 ms.`
    static func statisticsSentence(_ statistics: TraceStatistics) -> String {
        var sentence = "Scanned \(Format.count(Int64(statistics.segmentsScanned), "segment")), skipped "
            + "\(Format.grouped(Int64(statistics.segmentsSkippedByFilter))) by their correlation filters; read "
            + "\(Format.bytes(statistics.bytesRead)) in \(milliseconds(statistics.elapsed))."
        if statistics.segmentsWithoutUsableFilter > 0 {
            sentence += " \(Format.count(Int64(statistics.segmentsWithoutUsableFilter), "sealed segment")) had no usable correlation filter; "
                + "\(Format.grouped(Int64(statistics.filtersWritten))) written from the scan."
        }
        return sentence
    }

    static func milliseconds(_ elapsed: Duration) -> String {
        let value = elapsed / .milliseconds(1)
        return value >= 1000 ? Format.seconds(value / 1000) : Format.fixed(value, digits: 1) + " ms"
    }

    static func json(_ report: TraceReport) -> JSONValue {
        let statistics = report.statistics
        return .object([
            ("correlationId", .string(report.correlationID)),
            ("records", .array(report.records.map(json))),
            ("groups", .array(report.groupNames.map(JSONValue.string))),
            (
                "statistics",
                .object([
                    ("segmentsScanned", .integer(Int64(statistics.segmentsScanned))),
                    ("segmentsSkippedByFilter", .integer(Int64(statistics.segmentsSkippedByFilter))),
                    ("segmentsWithoutUsableFilter", .integer(Int64(statistics.segmentsWithoutUsableFilter))),
                    ("filtersWritten", .integer(Int64(statistics.filtersWritten))),
                    ("bytesRead", .integer(statistics.bytesRead)),
                    ("elapsedMicroseconds", .integer(Int64((statistics.elapsed / .microseconds(1)).rounded()))),
                ])
            ),
            ("problems", .array(report.problems.map(JSONValue.string))),
        ])
    }

    private static func json(_ record: TracedRecord) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("topic", .string(record.topic)), ("partition", .integer(Int64(record.partition))), ("offset", .integer(record.offset)),
            ("timestamp", .integer(record.timestamp)),
        ]
        if let key = record.key, !UTF8Validation.isValid(key) {
            members.append(("keyBase64", .string(Base64.encode(key))))
        } else {
            members.append(("key", record.keyString.map(JSONValue.string) ?? .null))
        }
        members += [
            ("eventType", optional(record.eventType)), ("messageId", optional(record.messageID)), ("causationId", optional(record.causationID)),
            ("valueBytes", .optional(record.valueByteCount.map(Int64.init))),
        ]
        var text: [(String, JSONValue)] = []
        var binary: [(String, JSONValue)] = []
        for header in record.headers {
            guard let value = header.value else {
                text.append((header.key, .null))
                continue
            }
            if UTF8Validation.isValid(value) {
                text.append((header.key, .string(String(decoding: value, as: UTF8.self))))
            } else {
                binary.append((header.key, .string(Base64.encode(value))))
            }
        }
        members.append(("headers", .object(text)))
        if !binary.isEmpty { members.append(("headersBase64", .object(binary))) }
        members.append((
            "groups",
            .array(record.groups.map { progress in
                .object([
                    ("group", .string(progress.group)), ("committedOffset", .optional(progress.committedOffset)),
                    ("processed", .bool(progress.processed)),
                ])
            })
        ))
        return .object(members)
    }

    private static func optional(_ text: String?) -> JSONValue {
        text.map(JSONValue.string) ?? .null
    }
}
