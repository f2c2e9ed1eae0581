import ArgumentParser
import StreamStore
import StreamStoreMessaging
import StreamToolSupport

extension StreamTool.Sagas {
    /// `stream-tool sagas show ID`: one instance's state and every event of its history.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one saga instance: where it stands and its history of events.",
            discussion: """
                Prints the instance's state, then each event of its saga topic in order: \
                time, offset, event, step, attempt and detail (a reply, or why a step or \
                compensation failed). The events, its commands to the participants and their \
                replies all carry the instance's id as correlation id, so stream-tool trace ID \
                shows the whole flow across topics, each record naming its cause.

                Exits 1 when no saga has an instance with that id.

                --json prints {"saga":...,"instance":{...as sagas list --json...}, \
                "history":[{"offset":N,"timestamp":ms,"event":...,"step":N|null, \
                "attempt":N|null,"deadline":ms|null,"detail":...|null,"messageId":..., \
                "causationId":...|null}]}.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The instance's id (its correlation id).")
        var id: String

        @Option(help: ArgumentHelp("Look in this saga only (its topic is SAGA.sagas).", valueName: "SAGA"))
        var saga: String?

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let (id, saga) = (id, saga)
                let (entry, history) = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    let history = try SagaCatalog.history(of: id, in: store, saga: saga)
                    let entry = try await SagaCatalog.instances(in: store, saga: history.first?.saga ?? saga).first { $0.instance.id == id }
                    return (entry, history)
                }
                guard let entry, !history.isEmpty else {
                    throw ToolError("No saga has an instance \(id); stream-tool sagas list shows them.")
                }
                let output = BufferedOutput()
                if json {
                    JSONValue.object([
                        ("saga", .string(entry.saga)), ("instance", List.json(entry)), ("history", .array(history.map(Self.json))),
                    ]).write(to: output)
                    output.append("\n")
                } else {
                    output.append(Self.text(entry, history: history))
                }
                try output.flush()
            }
        }

        static func text(_ entry: SagaCatalog.Entry, history: [SagaCatalog.HistoryEntry]) -> String {
            let instance = entry.instance
            var text = "saga      \(entry.saga)\nid        \(instance.id)\nstate     \(instance.status.rawValue)\n"
            text += "step      \(List.step(instance))\n"
            if let failure = instance.failure { text += "failure   \(failure)\n" }
            text += "data      \(instance.data)\n\n"
            var table = TextTable([("TIME", .left), ("OFFSET", .right), ("EVENT", .left), ("STEP", .right), ("ATTEMPT", .right), ("DETAIL", .left)])
            for item in history {
                let event = item.event
                var detail = event.detail ?? ""
                if let deadline = event.deadlineMilliseconds { detail = "deadline \(ISO8601.format(milliseconds: deadline))" + (detail.isEmpty ? "" : "; " + detail) }
                table.add([
                    ISO8601.format(milliseconds: item.timestamp), String(item.offset), event.kind.rawValue, event.step.map(String.init) ?? "-",
                    event.attempt.map(String.init) ?? "-", detail,
                ])
            }
            text += table.render()
            text += "\nThe whole flow (commands, replies, events, each naming its cause): stream-tool trace \(instance.id)\n"
            return text
        }

        static func json(_ item: SagaCatalog.HistoryEntry) -> JSONValue {
            .object([
                ("offset", .integer(item.offset)), ("timestamp", .integer(item.timestamp)), ("event", .string(item.event.kind.rawValue)),
                ("step", item.event.step.map { .integer(Int64($0)) } ?? .null), ("attempt", item.event.attempt.map { .integer(Int64($0)) } ?? .null),
                ("deadline", .optional(item.event.deadlineMilliseconds)), ("detail", item.event.detail.map { .string($0) } ?? .null),
                ("messageId", item.messageID.map { .string($0) } ?? .null), ("causationId", item.causationID.map { .string($0) } ?? .null),
            ])
        }
    }
}
