import ArgumentParser
import StreamStore
import StreamStoreOutbox
import StreamToolSupport

extension StreamTool.OutboxCommand {
    /// `stream-tool outbox status --db FILE`: what waits in the outbox and what relays reported,
    /// from the database alone (it opens no store).
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the outbox's pending rows and what its relays reported.",
            discussion: """
                Reads the database only: pending rows per topic and the age of the oldest, rows \
                published since the outbox was created and when last, failed relay passes and \
                the last error.

                --json prints {"pendingRows":N,"oldestPendingAgeMilliseconds":N,"topics":[{ \
                "topic":...,"pendingRows":N,"oldestCreatedAt":ms}],"publishedRows":N, \
                "lastPublishedAt":ms|null,"relayErrors":N,"lastError":...|null, \
                "lastErrorAt":ms|null}.
                """)

        @OptionGroup var database: OutboxDatabaseOptions

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let status = try await OutboxStatus.read(from: try database.open())
                let output = BufferedOutput()
                if json {
                    Self.json(status).write(to: output)
                    output.append("\n")
                } else {
                    output.append(Self.text(status))
                }
                try output.flush()
            }
        }

        static func text(_ status: OutboxStatus) -> String {
            var text = "pending rows    \(Format.grouped(Int64(status.pendingRows)))"
            if status.pendingRows > 0 { text += ", the oldest waiting \(Format.age(milliseconds: status.oldestPendingAgeMilliseconds))" }
            text += "\n"
            if !status.topics.isEmpty {
                var table = TextTable([("TOPIC", .left), ("PENDING", .right), ("OLDEST CREATED", .left)])
                for topic in status.topics {
                    table.add([topic.topic, Format.grouped(Int64(topic.pendingRows)), ISO8601.format(milliseconds: topic.oldestCreatedAtMilliseconds)])
                }
                text += table.render(indent: "  ")
            }
            text += "published rows  \(Format.grouped(Int64(status.publishedRows)))"
            if let last = status.lastPublishedAtMilliseconds { text += ", last at \(ISO8601.format(milliseconds: last))" }
            text += "\nrelay errors    \(Format.grouped(Int64(status.relayErrors)))"
            if let error = status.lastError {
                text += ", last at \(status.lastErrorAtMilliseconds.map { ISO8601.format(milliseconds: $0) } ?? "?"): \(error)"
            }
            return text + "\n"
        }

        static func json(_ status: OutboxStatus) -> JSONValue {
            .object([
                ("pendingRows", .integer(Int64(status.pendingRows))),
                ("oldestPendingAgeMilliseconds", .integer(status.oldestPendingAgeMilliseconds)),
                (
                    "topics",
                    .array(
                        status.topics.map { topic in
                            .object([
                                ("topic", .string(topic.topic)), ("pendingRows", .integer(Int64(topic.pendingRows))),
                                ("oldestCreatedAt", .integer(topic.oldestCreatedAtMilliseconds)),
                            ])
                        })
                ),
                ("publishedRows", .integer(Int64(status.publishedRows))),
                ("lastPublishedAt", .optional(status.lastPublishedAtMilliseconds)),
                ("relayErrors", .integer(Int64(status.relayErrors))),
                ("lastError", status.lastError.map { .string($0) } ?? .null),
                ("lastErrorAt", .optional(status.lastErrorAtMilliseconds)),
            ])
        }
    }
}
