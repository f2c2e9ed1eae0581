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

        @Option(help: ArgumentHelp("Read only this partition (default: all, in order).", valueName: "P"))
        var partition: Int?

        @Flag(name: .customLong("from-beginning"), help: "Start at the oldest record kept (the default).")
        var fromBeginning = false

        @Option(name: .customLong("from-offset"), help: ArgumentHelp("Start at this offset in each partition read.", valueName: "N"))
        var fromOffset: Int64?

        @Option(
            name: .customLong("from-time"),
            help: ArgumentHelp("Start at the first record stamped at or after TIME (ISO 8601 or ms since the epoch).", valueName: "TIME"))
        var fromTime: String?

        @Flag(name: .customLong("from-end"), help: "Start at the log end offset: skip every record kept so far.")
        var fromEnd = false

        @Option(name: .customLong("until-offset"), help: ArgumentHelp("Stop before this offset (it is not printed).", valueName: "N"))
        var untilOffset: Int64?

        @Option(
            name: .customLong("until-time"),
            help: ArgumentHelp("Stop at the first record stamped after TIME (records at TIME are printed).", valueName: "TIME"))
        var untilTime: String?

        @Option(help: ArgumentHelp("Print at most N records in all.", valueName: "N"))
        var limit: Int?

        @Option(help: "The output format: text, json or value.")
        var format: OutputFormat = .text

        func validate() throws {
            let starts = [fromBeginning, fromOffset != nil, fromTime != nil, fromEnd].filter { $0 }.count
            guard starts <= 1 else {
                throw ValidationError("Give at most one of --from-beginning, --from-offset, --from-time and --from-end.")
            }
            if let fromOffset, fromOffset < 0 { throw ValidationError("--from-offset must not be negative.") }
            if let untilOffset, untilOffset < 0 { throw ValidationError("--until-offset must not be negative.") }
            if let partition, partition < 0 { throw ValidationError("--partition must not be negative.") }
            if let limit, limit < 0 { throw ValidationError("--limit must not be negative.") }
        }

        func run() async throws {
            try await reportingErrors {
                var plan = ReplayPlan(format: format, limit: limit, untilOffset: untilOffset)
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

                try await storeOptions.resolved(parent: root.storeOptions).withStore(createIfMissing: false) { store in
                    let topic = try store.topic(topic)
                    let partitions: [Int]
                    if let partition {
                        _ = try topic.logEndOffset(partition: partition)  // throws `.partitionOutOfRange`
                        partitions = [partition]
                    } else {
                        partitions = Array(0..<topic.partitionCount)
                    }
                    var replayer = Replayer(topic: topic, plan: plan, explicitPartition: partition != nil)
                    try replayer.run(try replayer.spans(partitions: partitions))
                }
            }
        }
    }
}

/// What to print: where to start and stop, how many, in which format.
struct ReplayPlan {
    var format: StreamTool.Replay.OutputFormat
    var limit: Int?
    var untilOffset: Int64?
    var untilTimestamp: Int64?
    var start: StartPosition = .beginning

    init(format: StreamTool.Replay.OutputFormat, limit: Int?, untilOffset: Int64?) {
        self.format = format
        self.limit = limit
        self.untilOffset = untilOffset
    }
}

/// Walks partitions batch by batch and writes each record in the chosen format.
private struct Replayer {
    let topic: Topic
    let plan: ReplayPlan
    /// With one named partition, an offset outside its log is an error; across all partitions
    /// the same offset is simply past the end of the shorter ones.
    let explicitPartition: Bool
    let output = BufferedOutput()
    let progress = ProgressLine.besideStreamedOutput()
    var writer: RecordWriter
    var printed = 0

    /// One partition's stretch of offsets to print: `start ..< end`.
    struct Span {
        var partition: Int
        var start: Int64
        var end: Int64
    }

    init(topic: Topic, plan: ReplayPlan, explicitPartition: Bool) {
        self.topic = topic
        self.plan = plan
        self.explicitPartition = explicitPartition
        writer = RecordWriter(output: output)
    }

    /// Works out where every partition starts and ends before printing anything, so a bad start
    /// is an error with no output before it.
    func spans(partitions: [Int]) throws(StreamStoreError) -> [Span] {
        try partitions.map { (partition) throws(StreamStoreError) in
            let logStart = try topic.logStartOffset(partition: partition)
            let logEnd = try topic.logEndOffset(partition: partition)
            let start: Int64
            switch plan.start {
            case .offset(let offset) where !explicitPartition:
                start = min(max(offset, logStart), logEnd)
            case .offset(let offset) where offset < logStart || offset > logEnd:
                throw StreamStoreError(
                    .offsetOutOfRange,
                    "Offset \(offset) is not in partition \(partition), which runs from offset \(logStart) to its log end offset \(logEnd); pick one in between, or use --from-beginning.",
                    topic: topic.name, partition: partition)
            default:
                start = try topic.offset(partition: partition, for: plan.start)
            }
            return Span(partition: partition, start: start, end: max(start, min(logEnd, plan.untilOffset ?? Int64.max)))
        }
    }

    mutating func run(_ spans: [Span]) throws {
        let stopwatch = Stopwatch()
        var total = spans.reduce(Int64(0)) { $0 + ($1.end - $1.start) }
        if let limit = plan.limit { total = min(total, Int64(limit)) }
        defer { progress.finish() }
        if plan.format == .text { writer.appendTextTitles(withPartition: true) }
        do {
            for span in spans {
                if let limit = plan.limit, printed >= limit { break }
                try replay(span, stopwatch: stopwatch, total: total)
            }
        } catch {
            // What was read before a failure (a corrupt batch, say) is still printed.
            progress.finish()
            try? output.flush()
            throw error
        }
        try output.flush()
    }

    private mutating func replay(_ span: Span, stopwatch: Stopwatch, total: Int64) throws {
        let partition = span.partition
        let prefix = jsonPrefix(partition: partition)
        var next = span.start
        var finished = false
        while next < span.end && !finished {
            let batches = try topic.readBatches(partition: partition, from: next, maxBytes: 1 << 20)
            guard !batches.isEmpty else { break }
            for batch in batches where !finished {
                try batch.forEachRecord(from: next) { record in
                    guard !finished else { return }
                    if record.offset >= span.end || (plan.untilTimestamp.map { record.timestamp > $0 } ?? false) {
                        finished = true
                        return
                    }
                    if let limit = plan.limit, printed >= limit {
                        finished = true
                        return
                    }
                    write(record, partition: partition, jsonPrefix: prefix)
                    printed += 1
                }
                next = batch.nextOffset
                try output.flushIfFull()
            }
            let done = Int64(printed)
            progress.update { "replaying \(topic.name): " + ProgressText.count(done, of: total, unit: "records", seconds: stopwatch.elapsedSeconds) }
        }
    }

    private mutating func write(_ record: RecordView, partition: Int, jsonPrefix: [UInt8]) {
        switch plan.format {
        case .value:
            if let value = record.value { output.append(value) }
            output.append(UInt8(ascii: "\n"))
        case .json:
            output.append(jsonPrefix)
            output.appendDecimal(record.offset)
            writer.appendJSONMembers(after: record)
            output.append(Self.jsonEnd)
        case .text:
            writer.appendTextRow(record, partition: partition)
        }
    }

    private static let jsonEnd = Array("}\n".utf8)

    /// `{"topic":"orders","partition":3,"offset":` — the same for every record of a partition.
    private func jsonPrefix(partition: Int) -> [UInt8] {
        let prefix = BufferedOutput(capacityBytes: 64)
        prefix.append("{\"topic\":")
        JSONText.appendString(topic.name, to: prefix)
        prefix.append(",\"partition\":\(partition),\"offset\":")
        return Array(prefix.takeString().utf8)
    }
}
