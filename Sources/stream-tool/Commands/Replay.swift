import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool replay TOPIC`: prints records in offset order.
    ///
    /// Reads batch by batch and walks records in place (no object per record), writing through
    /// one buffered stdout writer, so replaying to a file or a pipe runs at disk speed.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print records in offset order.",
            discussion: """
                Prints one partition, or every partition one after another in partition order, \
                from the start of the log unless told otherwise, up to the log end offset at the \
                moment replay starts.

                --follow then keeps waiting for new records, also those another process (like \
                stream-tool produce) appends, until interrupted: Ctrl-C or SIGTERM ends it with \
                exit status 0 once what was printed is flushed (and committed). It opens the store \
                read-only, beside the process that writes it, and sleeps until that process appends.

                --group G starts each partition at the offset consumer group G committed; \
                partitions G never committed start where --from-* says (default: the \
                beginning), so --from-* never overrides a commit. Without --commit the group must \
                exist. --commit commits, per partition, the offset after the last record printed \
                (creating the group if needed): every 1,000 records or half a second, at the log \
                end, and before exiting, each time after the output is written out. On a clean \
                exit (the end, --limit, Ctrl-C) nothing printed is left uncommitted, and the \
                next replay --group G prints only what came after; when a pipe's reader stops \
                early (| head), what it may not have read is not committed and comes again.

                text: aligned columns for people (control characters escaped, bytes that are \
                not UTF-8 shown as base64:...). json: one object a line with topic, partition, \
                offset, timestamp (ms), key, value and headers; a key or value that is not \
                UTF-8 comes as keyBase64/valueBase64, a null one as null. value: the raw values, \
                one a line.
                """)

        enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
            case text, json, value
        }

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic to read.")
        var topic: String

        @Option(parsing: .unconditional, help: ArgumentHelp("Read only this partition (default: all, in order).", valueName: "P"))
        var partition: Int?

        @Flag(name: .customLong("from-beginning"), help: "Start at the oldest record kept (the default).")
        var fromBeginning = false

        @Option(name: .customLong("from-offset"), parsing: .unconditional, help: ArgumentHelp("Start at this offset in each partition read.", valueName: "N"))
        var fromOffset: Int64?

        @Option(
            name: .customLong("from-time"),
            help: ArgumentHelp("Start at the first record stamped at or after TIME (ISO 8601 or ms since the epoch).", valueName: "TIME"))
        var fromTime: String?

        @Flag(name: .customLong("from-end"), help: "Start at the log end offset: skip every record kept so far.")
        var fromEnd = false

        @Option(name: .customLong("until-offset"), parsing: .unconditional, help: ArgumentHelp("Stop before this offset (it is not printed).", valueName: "N"))
        var untilOffset: Int64?

        @Option(
            name: .customLong("until-time"),
            help: ArgumentHelp("Stop at the first record stamped after TIME (records at TIME are printed).", valueName: "TIME"))
        var untilTime: String?

        @Option(parsing: .unconditional, help: ArgumentHelp("Print at most N records in all.", valueName: "N"))
        var limit: Int?

        @Option(help: "The output format: text, json or value.")
        var format: OutputFormat = .text

        @Flag(help: "After the log end, keep waiting for new records until interrupted (Ctrl-C, SIGTERM).")
        var follow = false

        @Option(
            help: ArgumentHelp(
                "Start each partition at consumer group G's committed offset (--from-* only for partitions it never committed).",
                valueName: "G"))
        var group: String?

        @Flag(help: "Commit to --group the offset after the last record printed, per partition.")
        var commit = false

        @OptionGroup(title: "Metrics options") var metrics: MetricsOptions

        func validate() throws {
            let starts = [fromBeginning, fromOffset != nil, fromTime != nil, fromEnd].filter { $0 }.count
            guard starts <= 1 else {
                throw ValidationError("Give at most one of --from-beginning, --from-offset, --from-time and --from-end.")
            }
            if let fromOffset, fromOffset < 0 { throw ValidationError("--from-offset must not be negative.") }
            if let untilOffset, untilOffset < 0 { throw ValidationError("--until-offset must not be negative.") }
            if let partition, partition < 0 { throw ValidationError("--partition must not be negative.") }
            if let limit, limit < 0 { throw ValidationError("--limit must not be negative.") }
            if commit && group == nil { throw ValidationError("--commit needs --group G: the consumer group to commit to.") }
        }

        func run() async throws {
            try await reportingErrors {
                let server = try metrics.startServing()
                defer { server?.stop() }
                let plan = try makePlan()
                let options = storeOptions.resolved(parent: root.storeOptions)
                guard plan.follow || plan.commit else {
                    var replay = ReplayRun(plan: plan, storeOptions: options)
                    try await replay.run()
                    return
                }
                // Following ends only by a signal, and a commit must not be lost to one: both
                // turn SIGINT and SIGTERM into the end of the replay.
                let received = Interruption.Received()
                try await Interruption.cancellingOnSignals(received) {
                    var replay = ReplayRun(plan: plan, storeOptions: options)
                    try await replay.run()
                }
                // Following is meant to be ended so; a replay cut short is not a success.
                if let signal = received.signal, !plan.follow { throw ExitCode(128 + signal) }
            }
        }

        private func makePlan() throws -> ReplayPlan {
            var plan = ReplayPlan(topic: topic, format: format)
            plan.partition = partition
            plan.limit = limit
            plan.untilOffset = untilOffset
            plan.follow = follow
            plan.group = group
            plan.commit = commit
            if let fromOffset { plan.start = .offset(fromOffset) }
            if fromEnd { plan.start = .end }
            if let fromTime {
                let milliseconds = try Parsing.timeMilliseconds(fromTime)
                guard milliseconds <= Clocks.nowMilliseconds() else {
                    throw ToolError("--from-time \(ISO8601.format(milliseconds: milliseconds)) is in the future; nothing is stamped after now.")
                }
                plan.start = .timestamp(milliseconds)
            }
            if let untilTime { plan.untilTimestamp = try Parsing.timeMilliseconds(untilTime) }
            return plan
        }
    }
}

/// What `replay` prints: which topic and partitions, where to start and stop, how many, in
/// which format, and what it does with a consumer group.
struct ReplayPlan: Sendable {
    var topic: String
    var format: StreamTool.Replay.OutputFormat
    var partition: Int?
    var start: StartPosition = .beginning
    var untilOffset: Int64?
    var untilTimestamp: Int64?
    var limit: Int?
    var follow = false
    var group: String?
    var commit = false

    init(topic: String, format: StreamTool.Replay.OutputFormat) {
        self.topic = topic
        self.format = format
    }
}
