import ArgumentParser
import StreamStore
import StreamStoreMessaging
import StreamToolSupport

extension StreamTool.Sagas {
    /// `stream-tool sagas list [--state S] [--saga NAME]`: one line per instance.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List saga instances and where each stands.",
            discussion: """
                One line per instance, oldest first: its saga, id, state, the step it is at \
                (and whether that is the step's action or its compensation), when it started \
                and when it last changed. States: running, compensating (a step failed or \
                timed out; the steps before it are being undone), completed, compensated, \
                failed (a compensation kept failing).

                --json prints {"sagas":[{"saga":...,"id":...,"state":...,"step":N|null, \
                "compensating":true|false,"attempt":N|null, \
                "deadline":ms|null,"completedSteps":N,"compensatedSteps":[N], \
                "failure":...|null,"started":ms,"updated":ms}]}.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Option(help: ArgumentHelp("Only instances in this state: running, compensating, completed, compensated or failed.", valueName: "STATE"))
        var state: SagaStatus?

        @Option(help: ArgumentHelp("Only instances of this saga (its topic is SAGA.sagas).", valueName: "SAGA"))
        var saga: String?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let (state, saga) = (state, saga)
                let entries = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    try await SagaCatalog.instances(in: store, saga: saga, status: state)
                }
                let output = BufferedOutput()
                if json {
                    JSONValue.object([("sagas", .array(entries.map(Self.json)))]).write(to: output)
                    output.append("\n")
                } else if entries.isEmpty {
                    output.append("No saga instances\(state.map { " in state \($0.rawValue)" } ?? "").\n")
                } else {
                    var table = TextTable([("SAGA", .left), ("ID", .left), ("STATE", .left), ("STEP", .left), ("STARTED", .left), ("UPDATED", .left)])
                    for entry in entries {
                        table.add([
                            entry.saga, entry.instance.id, entry.instance.status.rawValue, Self.step(entry.instance),
                            ISO8601.format(milliseconds: entry.instance.startedMilliseconds), ISO8601.format(milliseconds: entry.instance.updatedMilliseconds),
                        ])
                    }
                    output.append(table.render())
                }
                try output.flush()
            }
        }

        /// `2 (compensation, attempt 1)`, or `-` when the instance waits for nothing.
        static func step(_ instance: SagaInstance) -> String {
            guard let awaiting = instance.awaiting else { return instance.status == .completed ? "all \(instance.completedSteps) done" : "-" }
            let side = awaiting.isCompensation ? "compensation" : "action"
            return "\(awaiting.step) (\(side)\(awaiting.attempt > 1 ? ", attempt \(awaiting.attempt)" : ""))"
        }

        static func json(_ entry: SagaCatalog.Entry) -> JSONValue {
            let instance = entry.instance
            return .object([
                ("saga", .string(entry.saga)), ("id", .string(instance.id)), ("state", .string(instance.status.rawValue)),
                ("step", instance.awaiting.map { .integer(Int64($0.step)) } ?? .null),
                ("compensating", .bool(instance.awaiting?.isCompensation ?? false)),
                ("attempt", instance.awaiting.map { .integer(Int64($0.attempt)) } ?? .null),
                ("deadline", .optional(instance.deadlineMilliseconds)),
                ("completedSteps", .integer(Int64(instance.completedSteps))),
                ("compensatedSteps", .array(instance.compensatedSteps.map { .integer(Int64($0)) })),
                ("failure", instance.failure.map { .string($0) } ?? .null),
                ("started", .integer(instance.startedMilliseconds)), ("updated", .integer(instance.updatedMilliseconds)),
            ])
        }
    }
}
