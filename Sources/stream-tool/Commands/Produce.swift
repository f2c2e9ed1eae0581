import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool produce TOPIC`: appends records read from a file or stdin.
    ///
    /// Records are gathered into batches of up to 1,000 records (or 1 MiB) per partition, so a
    /// large file costs one append per batch. A bad line stops the run: the lines before it are
    /// appended, the summary says how many, and the error names the line.
    struct Produce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append records read from a file or stdin.",
            discussion: """
                lines: each line is one record's value; --key and --header give every record \
                the same key and headers.

                json: each line is an object: {"key":"customer-17","value":"...", \
                "headers":{"event-type":"order-placed"},"timestamp":"2026-11-29T10:00:00Z", \
                "partition":3}. Use keyBase64 and valueBase64 for bytes that are not UTF-8, \
                "value":null for a tombstone. Every member but the value is optional; --key and \
                --header are defaults for lines that have none. "topic" and "offset" are \
                ignored, so the output of replay --format json can be produced again.

                A record goes to its line's partition, else --partition, else the partition \
                Kafka's default partitioner picks for its key (murmur2), else the next partition \
                in turn. A bad line stops the run with its line number; the lines before it are \
                appended. A summary goes to stderr.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case lines, json
        }

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic to append to (create it first).")
        var topic: String

        @Option(parsing: .unconditional, help: ArgumentHelp("Append every record to this partition.", valueName: "P"))
        var partition: Int?

        @Option(help: ArgumentHelp("The key of every record (json: of lines without one); it picks the partition.", valueName: "K"))
        var key: String?

        @Option(
            name: .customLong("header"),
            help: ArgumentHelp("A header for every record, as KEY=VALUE; repeat for more.", valueName: "K=V"))
        var headers: [String] = []

        @Option(help: ArgumentHelp("Read records from FILE instead of stdin.", valueName: "FILE"), completion: .file())
        var input: String?

        @Option(help: "The input format: lines (each line a value) or json (each line an object).")
        var format: Format = .lines

        @Flag(name: .customLong("print-offsets"), help: "Print PARTITION OFFSET for every record to stdout, in input order. After a failed append, a record that was not written prints PARTITION - when a later one was.")
        var printOffsets = false

        @OptionGroup(title: "Metrics options") var metrics: MetricsOptions

        func validate() throws {
            if let partition, partition < 0 { throw ValidationError("--partition must not be negative.") }
        }

        func run() async throws {
            try await reportingErrors {
                let server = try metrics.startServing()
                defer { server?.stop() }
                let flagHeaders = try headers.map { (text) throws(ToolError) in try Parsing.header(text) }
                let reader = try LineReader(path: input)
                try await storeOptions.resolved(parent: root.storeOptions).withStore(createIfMissing: true) { store in
                    let job = try ProduceJob(
                        topic: try store.topic(topic), format: format, partition: partition, key: key.map { Array($0.utf8) },
                        headers: flagHeaders, printOffsets: printOffsets)
                    try await job.run(reader: reader)
                }
            }
        }
    }
}

/// One run of `produce`: reads lines, turns them into records, appends them in batches.
private final class ProduceJob {
    let topic: Topic
    let format: StreamTool.Produce.Format
    let fixedPartition: Int?
    let defaultKey: [UInt8]?
    let defaultHeaders: [RecordHeader]
    let offsets: BufferedOutput?
    let appender: BatchAppender
    /// The partition a keyless record without a partition goes to next; starts at a random one
    /// so that repeated small runs spread too.
    var nextRoundRobin: Int
    var lineNumber = 0
    var failure: ToolError?

    init(topic: Topic, format: StreamTool.Produce.Format, partition: Int?, key: [UInt8]?, headers: [RecordHeader], printOffsets: Bool) throws(StreamStoreError) {
        if let partition {
            _ = try topic.logEndOffset(partition: partition)  // throws `.partitionOutOfRange`
        }
        self.topic = topic
        self.format = format
        fixedPartition = partition
        defaultKey = key
        defaultHeaders = headers
        offsets = printOffsets ? BufferedOutput() : nil
        appender = BatchAppender(topic: topic, offsets: offsets)
        nextRoundRobin = Int.random(in: 0..<topic.partitionCount)
    }

    func run(reader: LineReader) async throws {
        let stopwatch = Stopwatch()
        let progress = offsets == nil ? ProgressLine() : ProgressLine.besideStreamedOutput()
        if reader.isTerminal && StandardError.isTerminal {
            StandardError.line("Reading records from standard input, one a line; end with Ctrl-D.")
        }
        do {
            while true {
                let more = try reader.fill()
                reader.forEachLine { line in add(line) }
                if failure != nil || !more { break }
                if reader.isIdle {
                    // Nothing more to read right now (someone typing, `tail -f`): append what
                    // there is rather than wait for full batches.
                    try await appender.appendAll()
                    try offsets?.flush()
                } else {
                    try await appender.appendReady()
                    try offsets?.flushIfFull()
                }
                progress.update {
                    let seconds = stopwatch.elapsedSeconds
                    let records = Int64(self.appender.appendedRecords)
                    return "producing to \(self.topic.name): \(Format.grouped(records)) records, \(Format.rate(Double(records), seconds: seconds)) records/s; read "
                        + ProgressText.bytes(reader.bytesRead, of: reader.totalBytes, seconds: seconds)
                }
            }
            // The lines before a bad one are appended too.
            try await appender.appendAll()
            try offsets?.flush()
        } catch {
            progress.finish()
            appender.writeOffsetsAfterFailure()
            try? offsets?.flush()
            summarize(seconds: stopwatch.elapsedSeconds, stoppedAtLine: failure == nil ? nil : lineNumber)
            throw error
        }
        progress.finish()
        summarize(seconds: stopwatch.elapsedSeconds, stoppedAtLine: failure == nil ? nil : lineNumber)
        if let failure { throw failure }
    }

    private func summarize(seconds: Double, stoppedAtLine: Int?) {
        let records = appender.appendedRecords
        let batches = appender.appendedBatches
        var text = "Produced \(Format.grouped(Int64(records))) record\(records == 1 ? "" : "s") to \(topic.name) in \(batches) batch\(batches == 1 ? "" : "es")"
        if let stoppedAtLine {
            text += ", from the lines before line \(stoppedAtLine)"
        }
        let duplicates = appender.duplicateRecords
        if duplicates > 0 {
            text += " (\(Format.grouped(Int64(duplicates))) duplicate\(duplicates == 1 ? "" : "s") left out: already appended)"
        }
        text += "; \(Format.seconds(seconds)), \(Format.rate(Double(records), seconds: seconds)) records/s."
        StandardError.line(text)
    }

    /// Turns one line into a record and adds it; on a bad line records the failure and
    /// returns false to stop reading.
    private func add(_ line: UnsafeRawBufferPointer) -> Bool {
        lineNumber += 1
        do throws(ToolError) {
            switch format {
            case .lines: try addValueLine(line)
            case .json: try addJSONLine(line)
            }
            return true
        } catch {
            failure = ToolError("line \(lineNumber): \(error.message)")
            return false
        }
    }

    private func addValueLine(_ line: UnsafeRawBufferPointer) throws(ToolError) {
        let partition = try partition(explicit: nil, key: defaultKey)
        do throws(StreamStoreError) {
            if let defaultKey {
                try withKeyBytes(defaultKey) { (key) throws(StreamStoreError) in
                    try appender.add(partition: partition, key: key, value: line, headers: defaultHeaders, timestamp: nil)
                }
            } else {
                try appender.add(partition: partition, key: nil, value: line, headers: defaultHeaders, timestamp: nil)
            }
        } catch {
            throw ToolError(error.message)
        }
    }

    private func addJSONLine(_ line: UnsafeRawBufferPointer) throws(ToolError) {
        // Blank lines (a trailing newline, a separator) are not records.
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
        let record: JSONLineRecord
        do throws(JSONLineParser.Failure) {
            record = try JSONLineParser.parse(line)
        } catch {
            throw ToolError(error.message)
        }
        if let timestamp = record.timestamp {
            let limit = Clocks.nowMilliseconds() + topic.config.maxTimestampSkewMilliseconds
            guard timestamp <= limit else {
                throw ToolError(
                    "timestamp \(ISO8601.format(milliseconds: timestamp)) is more than \(Format.duration(milliseconds: topic.config.maxTimestampSkewMilliseconds)) in the future; fix the clock or leave the timestamp out")
            }
        }
        let key = record.key ?? defaultKey
        let partition = try partition(explicit: record.partition, key: key)
        do throws(StreamStoreError) {
            try appender.add(partition: partition, key: key, value: record.value, headers: defaultHeaders + record.headers, timestamp: record.timestamp)
        } catch {
            throw ToolError(error.message)
        }
    }

    private func partition(explicit: Int?, key: [UInt8]?) throws(ToolError) -> Int {
        if let explicit {
            guard explicit < topic.partitionCount else {
                throw ToolError("partition \(explicit) does not exist: topic \(topic.name) has partitions 0...\(topic.partitionCount - 1)")
            }
            return explicit
        }
        if let fixedPartition { return fixedPartition }
        if let key { return topic.partition(forKey: key) }
        defer { nextRoundRobin = (nextRoundRobin + 1) % topic.partitionCount }
        return nextRoundRobin
    }

    private func withKeyBytes(_ key: [UInt8], _ body: (UnsafeRawBufferPointer) throws(StreamStoreError) -> Void) throws(StreamStoreError) {
        let result: Result<Void, StreamStoreError> = key.withUnsafeBytes { bytes in
            do throws(StreamStoreError) { return .success(try body(bytes)) } catch { return .failure(error) }
        }
        try result.get()
    }
}
