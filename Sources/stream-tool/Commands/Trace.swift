import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool trace CORRELATION_ID`: where the events of one flow went, and which consumer
    /// groups have processed them (CLI.md, `trace`).
    struct Trace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every record of a correlation id across topics, and which groups processed it.",
            discussion: """
                Finds every record whose correlation-id header is CORRELATION_ID, in every topic \
                (or the --topic ones), and prints them in time order: time, topic, partition, \
                offset, event-type, message-id and causation-id, then a column per consumer \
                group that consumes one of those topics: ✓ when the group's committed offset is \
                past the record, pending when it is not, - when the group does not consume the \
                record's topic. A summary says how many segments were scanned and how many \
                their correlation filters let the trace skip. Says so when no record has the id.

                Each sealed segment keeps a correlation filter (a .cfilter file beside its \
                .log); a trace reads it to skip segments that cannot hold the id, scans every \
                other segment (the newest of each partition always), and writes the filter of \
                a segment that had none. Exits 0 (also when nothing is found), 3 when part of \
                the log could not be read (the records there are missing from the trace; run \
                stream-tool verify).

                --json prints {"correlationId":...,"records":[{"topic":...,"partition":0, \
                "offset":...,"timestamp":ms,"key":...|null,"eventType":...|null, \
                "messageId":...|null,"causationId":...|null,"valueBytes":N|null, \
                "headers":{...},"groups":[{"group":...,"committedOffset":N|null, \
                "processed":true|false}]}],"groups":[names],"statistics":{"segmentsScanned":..., \
                "segmentsSkippedByFilter":...,"segmentsWithoutUsableFilter":..., \
                "filtersWritten":...,"bytesRead":...,"elapsedMicroseconds":...}, \
                "problems":[sentences]}; keys and header values that are not UTF-8 come as \
                keyBase64 and headersBase64, as replay writes them.
                """)

        /// The exit status when part of the log could not be read, as `verify` uses it.
        static let problemsExitCode: Int32 = 3

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The value of the correlation-id header to look for.")
        var correlationID: String

        @Option(name: .customLong("topic"), help: ArgumentHelp("Search only this topic (repeat for more; default: every topic).", valueName: "TOPIC"))
        var topics: [String] = []

        @Flag(help: "Print one JSON document instead of a table.")
        var json = false

        func run() async throws {
            var problems = 0
            try await reportingErrors {
                let names = topics.isEmpty ? nil : topics
                let report = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    try store.trace(correlationID: correlationID, topics: names)
                }
                let output = BufferedOutput()
                if json {
                    TraceReportText.json(report).write(to: output)
                    output.append("\n")
                } else {
                    output.append(TraceReportText.text(report, colours: .standardOutput))
                }
                try output.flush()
                problems = report.problems.count
            }
            if problems > 0 { throw ExitCode(Self.problemsExitCode) }
        }
    }
}
