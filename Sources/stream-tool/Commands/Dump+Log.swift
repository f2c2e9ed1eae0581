import StreamStore
import StreamStoreInspect

/// `dump` of a `.log` file: a row (or JSON object) per batch, streamed as the file is walked,
/// then how the file ends and, with `--verify-index`, how its indexes compare.
struct LogDump {
    let path: String
    let json: Bool
    let showRecords: Bool
    let output: BufferedOutput
    let colours = Colours.standardOutput
    /// Records of the batch being written, before its row (a record that fails to decode adds a
    /// note to the row, which is written first).
    private let recordOutput = BufferedOutput(capacityBytes: 64 * 1024)
    private var recordWriter: RecordWriter
    private var batchCount = 0
    private var recordCount: Int64 = 0
    private var problems = 0

    init(path: String, json: Bool, showRecords: Bool, output: BufferedOutput) {
        self.path = path
        self.json = json
        self.showRecords = showRecords
        self.output = output
        recordWriter = RecordWriter(output: recordOutput)
    }

    static let batchTable = StreamingTable(
        [
            ("POSITION", 10, .right), ("BASE OFFSET", 11, .right), ("LAST OFFSET", 11, .right), ("RECORDS", 7, .right),
            ("BYTES", 9, .right), ("UNCOMPRESSED", 12, .right), ("CODEC", 5, .left), ("TIME", 6, .left),
            ("FIRST TIMESTAMP", 24, .left), ("MAX TIMESTAMP", 24, .left), ("CRC", 3, .left), ("NOTES", 0, .left),
        ], indent: "")

    /// Walks the file and writes the dump; returns the number of problems found.
    mutating func run(verifyIndexes: Bool) throws -> Int {
        let segment = SegmentFilePath(path)
        if verifyIndexes && segment == nil {
            throw ToolError(
                "\(path) is not named like a segment file (its base offset in 20 digits), so its indexes cannot be found; give it its segment's name to use --verify-index.")
        }
        let inspector = try LogFileInspector(path: path)
        let progress = ProgressLine.besideStreamedOutput()
        defer { progress.finish() }
        let stopwatch = Stopwatch()
        writeOpening(inspector)
        let end = try inspector.forEachBatch { batch in
            try write(batch)
            let done = batch.position + Int64(batch.byteCount)
            progress.update { "dumping \(path): " + ProgressText.bytes(done, of: inspector.fileBytes, seconds: stopwatch.elapsedSeconds) }
        }
        progress.finish()
        if end != .complete { problems += 1 }
        var checks: [IndexCheckReport] = []
        if verifyIndexes, let segment {
            checks = [SegmentFilePath.Kind.offsetIndex, .timeIndex].compactMap { SegmentFilePath(segment.sibling($0)) }.map(IndexCheckReport.make)
            problems += checks.reduce(0) { $0 + $1.allProblems.count }
        }
        writeClosing(end: end, checks: checks)
        return problems
    }

    // MARK: Opening and closing

    private func writeOpening(_ inspector: LogFileInspector) {
        if json {
            output.append("{\"file\":" + JSONText.quoted(path) + ",\"kind\":\"log\",\"baseOffset\":")
            JSONValue.optional(inspector.baseOffset).write(to: output)
            output.append(",\"fileBytes\":\(inspector.fileBytes),\"batches\":[")
            return
        }
        let base = inspector.baseOffset.map { "base offset \($0)" } ?? "base offset unknown (not a segment file name)"
        output.append("Log segment \(path): \(base), \(Format.grouped(inspector.fileBytes)) bytes\n\n")
        output.append(Self.batchTable.titles)
        if showRecords { RecordWriter(output: output).appendTextTitles(withPartition: false, indent: "      ") }
        try? output.flushIfFull()
    }

    private func writeClosing(end: LogFileInspector.End, checks: [IndexCheckReport]) {
        if json {
            output.append("],\"end\":")
            Self.json(end).write(to: output)
            output.append(",\"batchCount\":\(batchCount),\"recordCount\":\(recordCount)")
            if !checks.isEmpty {
                output.append(",\"indexChecks\":")
                JSONValue.array(checks.map(\.json)).write(to: output)
            }
            output.append(",\"problems\":\(problems)}\n")
            return
        }
        let ending = end == .complete ? end.sentence : colours.red(end.sentence)
        output.append("\n\(Format.count(Int64(batchCount), "batch", "batches")), \(Format.count(recordCount, "record")); \(ending)")
        switch end {
        case .complete: output.append(".\n")
        case .truncated: output.append(" (a torn write: the store cuts it off when it next opens after a crash, or a file still being appended to).\n")
        case .unreadable: output.append(".\n")
        }
        for check in checks { check.writeText(to: output, colours: colours) }
        output.append(Self.verdict(problems: problems, colours: colours))
    }

    /// `No problems.`, or `2 problems (see NOTES above).` in red.
    static func verdict(problems: Int, colours: Colours) -> String {
        problems == 0 ? colours.green("No problems.") + "\n" : colours.red(Format.count(Int64(problems), "problem") + " found.") + "\n"
    }

    private static func json(_ end: LogFileInspector.End) -> JSONValue {
        switch end {
        case .complete:
            return .object([("status", .string("complete")), ("description", .string(end.sentence))])
        case .truncated(let position, let present, let needed):
            return .object([
                ("status", .string("truncated")), ("position", .integer(position)), ("presentBytes", .integer(present)),
                ("neededBytes", .integer(needed)), ("description", .string(end.sentence)),
            ])
        case .unreadable(let position, let reason):
            return .object([
                ("status", .string("unreadable")), ("position", .integer(position)), ("reason", .string(reason)),
                ("description", .string(end.sentence)),
            ])
        }
    }

    // MARK: Batches

    private mutating func write(_ batch: InspectedBatch) throws {
        var notes = batch.problems
        if let problem = decodeRecords(of: batch) { notes.append("records: \(problem)") }
        problems += notes.count
        batchCount += 1
        recordCount += Int64(batch.recordCount)
        if json {
            writeJSON(batch, problems: notes)
        } else {
            writeRow(batch, problems: notes)
        }
        if showRecords {
            output.append(recordOutput.takeString())
            if json { output.append("]}") }
        }
        try output.flushIfFull()
    }

    /// Decodes every record (into `recordOutput` when records are shown); the reason when one
    /// cannot be decoded.
    private mutating func decodeRecords(of batch: InspectedBatch) -> String? {
        guard showRecords else { return batch.recordProblem() }
        var first = true
        do {
            try batch.forEachRecord { record in
                if json {
                    recordOutput.append(first ? "{\"offset\":" : ",{\"offset\":")
                    recordOutput.appendDecimal(record.offset)
                    recordWriter.appendJSONMembers(after: record)
                    recordOutput.append(UInt8(ascii: "}"))
                } else {
                    recordWriter.appendTextRow(record, partition: nil, indent: "      ")
                }
                first = false
            }
            return nil
        } catch {
            return error.message
        }
    }

    private func writeRow(_ batch: InspectedBatch, problems: [String]) {
        let colours = self.colours
        var notes = problems.map { colours.red($0) }
        if batch.producerId != -1 {
            notes.append("producer \(batch.producerId) epoch \(batch.producerEpoch) sequence \(batch.baseSequence)")
        }
        if batch.partitionLeaderEpoch != 0 { notes.append("leader epoch \(batch.partitionLeaderEpoch)") }
        if batch.isTransactional { notes.append("transactional") }
        if batch.isControl { notes.append("control batch") }
        let crc = batch.crcMatches ? "ok" : "BAD"
        let isSound = batch.crcMatches
        let crcStyle: (String) -> String = { isSound ? colours.green($0) : colours.red($0) }
        output.append(
            Self.batchTable.row(
                [
                    String(batch.position), String(batch.baseOffset), String(batch.lastOffset), String(batch.recordCount),
                    String(batch.byteCount), batch.uncompressedByteCount.map(String.init) ?? "?",
                    batch.compressionName, batch.isLogAppendTime ? "append" : "create",
                    ISO8601.format(milliseconds: batch.baseTimestamp), ISO8601.format(milliseconds: batch.maxTimestamp), crc,
                    notes.joined(separator: "; "),
                ], colour: [10: crcStyle]))
    }

    private func writeJSON(_ batch: InspectedBatch, problems: [String]) {
        if batchCount > 1 { output.append(UInt8(ascii: ",")) }
        let value = JSONValue.object([
            ("position", .integer(batch.position)),
            ("baseOffset", .integer(batch.baseOffset)),
            ("lastOffset", .integer(batch.lastOffset)),
            ("recordCount", .integer(Int64(batch.recordCount))),
            ("bytes", .integer(Int64(batch.byteCount))),
            ("uncompressedBytes", batch.uncompressedByteCount.map { .integer(Int64($0)) } ?? .null),
            ("partitionLeaderEpoch", .integer(Int64(batch.partitionLeaderEpoch))),
            ("magic", .integer(Int64(batch.magic))),
            ("crc", .integer(Int64(batch.crc))),
            ("computedCrc", .integer(Int64(batch.computedCRC))),
            ("crcValid", .bool(batch.crcMatches)),
            ("attributes", .integer(Int64(batch.attributes))),
            ("codec", .string(batch.compressionName)),
            ("timestampType", .string(batch.isLogAppendTime ? "LogAppendTime" : "CreateTime")),
            ("transactional", .bool(batch.isTransactional)),
            ("control", .bool(batch.isControl)),
            ("baseTimestamp", .integer(batch.baseTimestamp)),
            ("maxTimestamp", .integer(batch.maxTimestamp)),
            ("producerId", .integer(batch.producerId)),
            ("producerEpoch", .integer(Int64(batch.producerEpoch))),
            ("baseSequence", .integer(Int64(batch.baseSequence))),
            ("problems", .array(problems.map { .string($0) })),
        ])
        guard showRecords else {
            value.write(to: output)
            return
        }
        // The same object with the records appended as its last member.
        let text = BufferedOutput(capacityBytes: 1024)
        value.write(to: text)
        output.append(String(text.takeString().dropLast()))
        output.append(",\"records\":[")
    }
}
