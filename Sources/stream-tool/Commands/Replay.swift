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
                    try replayer.run(partitions: partitions)
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
    let progress = ProgressLine()
    var printed = 0
    var scratch: [UInt8] = []

    init(topic: Topic, plan: ReplayPlan, explicitPartition: Bool) {
        self.topic = topic
        self.plan = plan
        self.explicitPartition = explicitPartition
    }

    mutating func run(partitions: [Int]) throws {
        let stopwatch = Stopwatch()
        defer { progress.finish() }
        if plan.format == .text { writeTextTitles() }
        do {
            for partition in partitions {
                if let limit = plan.limit, printed >= limit { break }
                try replay(partition: partition, stopwatch: stopwatch)
            }
        } catch {
            // What was read before a failure (a corrupt batch, say) is still printed.
            progress.finish()
            try? output.flush()
            throw error
        }
        try output.flush()
    }

    private mutating func replay(partition: Int, stopwatch: Stopwatch) throws {
        let logStart = try topic.logStartOffset(partition: partition)
        let logEnd = try topic.logEndOffset(partition: partition)
        var next: Int64
        switch plan.start {
        case .offset(let offset) where !explicitPartition:
            next = min(max(offset, logStart), logEnd)
        case .offset(let offset) where offset < logStart || offset > logEnd:
            throw StreamStoreError(
                .offsetOutOfRange,
                "Offset \(offset) is not in partition \(partition), which runs from offset \(logStart) to its log end offset \(logEnd); pick one in between, or use --from-beginning.",
                topic: topic.name, partition: partition)
        default:
            next = try topic.offset(partition: partition, for: plan.start)
        }
        let end = min(logEnd, plan.untilOffset ?? Int64.max)
        let prefix = jsonPrefix(partition: partition)
        var finished = false
        while next < end && !finished {
            let batches = try topic.readBatches(partition: partition, from: next, maxBytes: 1 << 20)
            guard !batches.isEmpty else { break }
            for batch in batches where !finished {
                try batch.forEachRecord(from: next) { record in
                    guard !finished else { return }
                    if record.offset >= end || (plan.untilTimestamp.map { record.timestamp > $0 } ?? false) {
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
            progress.update { "\(Format.grouped(Int64(printed))) records, \(Format.rate(Double(printed), seconds: stopwatch.elapsedSeconds)) records/s" }
        }
    }

    // MARK: Formats

    private mutating func write(_ record: RecordView, partition: Int, jsonPrefix: [UInt8]) {
        switch plan.format {
        case .value:
            if let value = record.value { output.append(value) }
            output.append(UInt8(ascii: "\n"))
        case .json:
            writeJSON(record, prefix: jsonPrefix)
        case .text:
            writeText(record, partition: partition)
        }
    }

    /// `{"topic":"orders","partition":3,"offset":` — the same for every record of a partition.
    private func jsonPrefix(partition: Int) -> [UInt8] {
        let prefix = BufferedOutput(capacityBytes: 64)
        prefix.append("{\"topic\":")
        JSONText.appendString(topic.name, to: prefix)
        prefix.append(",\"partition\":\(partition),\"offset\":")
        return Array(prefix.takeString().utf8)
    }

    /// The fixed pieces of a JSON line, encoded once.
    private enum JSONPieces {
        static let timestamp = Array(#","timestamp":"#.utf8)
        static let key = FieldNames(name: "key")
        static let value = FieldNames(name: "value")
        static let headersOpen = Array(#","headers":{"#.utf8)
        static let headersBase64Open = Array(#","headersBase64":{"#.utf8)
        static let null = Array("null".utf8)
        static let end = Array("}\n".utf8)

        struct FieldNames {
            var text: [UInt8]
            var base64: [UInt8]
            var null: [UInt8]

            init(name: String) {
                text = Array(",\"\(name)\":".utf8)
                base64 = Array(",\"\(name)Base64\":\"".utf8)
                null = Array(",\"\(name)\":null".utf8)
            }
        }
    }

    private func writeJSON(_ record: RecordView, prefix: [UInt8]) {
        output.append(prefix)
        output.appendDecimal(record.offset)
        output.append(JSONPieces.timestamp)
        output.appendDecimal(record.timestamp)
        writeJSONBytes(record.key, names: JSONPieces.key)
        writeJSONBytes(record.value, names: JSONPieces.value)
        output.append(JSONPieces.headersOpen)
        var binaryHeaders: [RecordHeader] = []
        if record.headerCount > 0 {
            var first = true
            for header in record.headers {
                if let value = header.value, !UTF8Validation.isValid(value) {
                    binaryHeaders.append(header)
                    continue
                }
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                JSONText.appendString(header.key, to: output)
                output.append(UInt8(ascii: ":"))
                if let value = header.value {
                    value.withUnsafeBytes { JSONText.appendString($0, to: output) }
                } else {
                    output.append(JSONPieces.null)
                }
            }
        }
        output.append(UInt8(ascii: "}"))
        if !binaryHeaders.isEmpty {
            output.append(JSONPieces.headersBase64Open)
            for (index, header) in binaryHeaders.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONText.appendString(header.key, to: output)
                output.append(UInt8(ascii: ":"))
                output.append(UInt8(ascii: "\""))
                header.value?.withUnsafeBytes { Base64.append($0, to: output) }
                output.append(UInt8(ascii: "\""))
            }
            output.append(UInt8(ascii: "}"))
        }
        output.append(JSONPieces.end)
    }

    /// `,"key":"text"`, `,"keyBase64":"..."` or `,"key":null`.
    private func writeJSONBytes(_ bytes: UnsafeRawBufferPointer?, names: JSONPieces.FieldNames) {
        guard let bytes else {
            output.append(names.null)
            return
        }
        if UTF8Validation.isValid(bytes) {
            output.append(names.text)
            JSONText.appendString(bytes, to: output)
        } else {
            output.append(names.base64)
            Base64.append(bytes, to: output)
            output.append(UInt8(ascii: "\""))
        }
    }

    /// Column widths of the text format; keys longer than `keyWidth` push the value along.
    private static let partitionWidth = 9
    private static let offsetWidth = 12
    private static let timestampWidth = 24
    private static let keyWidth = 16

    private func writeTextTitles() {
        output.appendRightAligned("PARTITION", width: Self.partitionWidth)
        output.appendSpaces(2)
        output.appendRightAligned("OFFSET", width: Self.offsetWidth)
        output.appendSpaces(2)
        output.append("TIMESTAMP")
        output.appendSpaces(Self.timestampWidth - 9 + 2)
        output.append("KEY")
        output.appendSpaces(Self.keyWidth - 3 + 2)
        output.append("VALUE  [HEADERS]\n")
    }

    /// `        3       1042  2026-11-29T10:00:00.000Z  customer-17       {"type":…}  [event-type=order-placed]`
    private mutating func writeText(_ record: RecordView, partition: Int) {
        output.appendRightAligned(Int64(partition), width: Self.partitionWidth)
        output.appendSpaces(2)
        output.appendRightAligned(record.offset, width: Self.offsetWidth)
        output.appendSpaces(2)
        scratch.removeAll(keepingCapacity: true)
        ISO8601.append(milliseconds: record.timestamp, to: &scratch)
        output.append(scratch)
        output.appendSpaces(2)
        let keyColumns = writeTextBytes(record.key)
        output.appendSpaces(max(Self.keyWidth - keyColumns, 0) + 2)
        _ = writeTextBytes(record.value)
        if record.headerCount > 0 {
            output.append("  [")
            for (index, header) in record.headers.enumerated() {
                if index > 0 { output.append(", ") }
                var name = header.key
                _ = name.withUTF8 { writeTextBytes(UnsafeRawBufferPointer($0)) }
                output.append(UInt8(ascii: "="))
                if let value = header.value {
                    _ = value.withUnsafeBytes { writeTextBytes($0) }
                } else {
                    output.append("(null)")
                }
            }
            output.append(UInt8(ascii: "]"))
        }
        output.append(UInt8(ascii: "\n"))
    }

    /// Writes bytes for a terminal: UTF-8 text with control characters escaped, other bytes as
    /// `base64:…`, null as `(null)`. Returns about how many columns it took.
    private func writeTextBytes(_ bytes: UnsafeRawBufferPointer?) -> Int {
        guard let bytes else {
            output.append("(null)")
            return 6
        }
        guard UTF8Validation.isValid(bytes) else {
            output.append("base64:")
            Base64.append(bytes, to: output)
            return 7 + (bytes.count + 2) / 3 * 4
        }
        var columns = 0
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x80 else {
                // Characters, not bytes: continuation bytes (10xxxxxx) add no column.
                if byte & 0xC0 != 0x80 { columns += 1 }
                continue
            }
            columns += 1
            guard byte < 0x20 || byte == 0x7F else { continue }
            if runStart < index { output.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index])) }
            switch byte {
            case 0x0A: output.append("\\n")
            case 0x0D: output.append("\\r")
            case 0x09: output.append("\\t")
            default: output.append("\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16))
            }
            columns += 1
            runStart = index + 1
        }
        if runStart < bytes.count { output.append(UnsafeRawBufferPointer(rebasing: bytes[runStart...])) }
        return columns
    }
}
