import StreamStore
import StreamStoreInspect

/// `dump` of an `.index` or `.timeindex` file: its entries, its preallocated slots, its own
/// problems and, with `--verify-index`, how it compares with its log.
struct IndexDump {
    let file: SegmentFilePath
    let json: Bool
    let output: BufferedOutput
    let colours = Colours.standardOutput

    init(file: SegmentFilePath, json: Bool, output: BufferedOutput) {
        self.file = file
        self.json = json
        self.output = output
    }

    static let offsetTable = StreamingTable([("ENTRY", 7, .right), ("RELATIVE OFFSET", 15, .right), ("OFFSET", 12, .right), ("POSITION", 10, .right)])
    static let timeTable = StreamingTable([
        ("ENTRY", 7, .right), ("TIMESTAMP", 24, .left), ("TIMESTAMP MS", 13, .right), ("RELATIVE OFFSET", 15, .right), ("OFFSET", 12, .right),
    ])

    /// Writes the dump; returns the number of problems found.
    mutating func run(verifyAgainstLog: Bool) throws -> Int {
        let inspection = try IndexFileInspection(file: file)
        let check = verifyAgainstLog ? IndexCheckReport.make(for: file) : nil
        let problems = check?.allProblems ?? inspection.problems
        if json {
            writeJSON(inspection, check: check, problemCount: problems.count)
        } else {
            try writeText(inspection, check: check, problemCount: problems.count)
        }
        return problems.count
    }

    private var title: String { file.kind == .timeIndex ? "Time index" : "Offset index" }

    private func writeText(_ inspection: IndexFileInspection, check: IndexCheckReport?, problemCount: Int) throws {
        let entries = inspection.entries
        output.append(
            "\(title) \(file.path): base offset \(file.baseOffset), \(Format.count(Int64(entries.count), "entry", "entries")) of \(inspection.entryBytes) bytes, \(Format.grouped(inspection.fileBytes)) bytes\n\n"
        )
        let table = file.kind == .timeIndex ? Self.timeTable : Self.offsetTable
        output.append(table.titles)
        for (index, entry) in entries.enumerated() {
            var cells = [String(index)]
            if let timestamp = entry.timestamp {
                cells += [ISO8601.format(milliseconds: timestamp), String(timestamp)]
            }
            cells += [String(entry.relativeOffset), String(entry.offset)]
            if let position = entry.position { cells.append(String(position)) }
            output.append(table.row(cells))
            try output.flushIfFull()
        }
        output.append("\n")
        if inspection.preallocatedSlots > 0 {
            output.append(
                "Then \(Format.grouped(Int64(inspection.preallocatedSlots))) zeroed slots: room preallocated for an active segment's entries (trimmed when the store closes cleanly).\n"
            )
        }
        // With --verify-index the index's own problems come with the check.
        if let check {
            check.writeText(to: output, colours: colours)
        } else {
            for problem in inspection.problems { output.append(colours.red("Problem: \(problem)") + "\n") }
        }
        output.append(LogDump.verdict(problems: problemCount, colours: colours))
    }

    private func writeJSON(_ inspection: IndexFileInspection, check: IndexCheckReport?, problemCount: Int) {
        var members: [(String, JSONValue)] = [
            ("file", .string(file.path)),
            ("kind", .string(file.kind.rawValue)),
            ("baseOffset", .integer(file.baseOffset)),
            ("fileBytes", .integer(inspection.fileBytes)),
            (
                "entries",
                .array(
                    inspection.entries.map { entry in
                        var fields: [(String, JSONValue)] = []
                        if let timestamp = entry.timestamp { fields.append(("timestamp", .integer(timestamp))) }
                        fields += [("relativeOffset", .integer(Int64(entry.relativeOffset))), ("offset", .integer(entry.offset))]
                        if let position = entry.position { fields.append(("position", .integer(position))) }
                        return .object(fields)
                    })
            ),
            ("preallocatedSlots", .integer(Int64(inspection.preallocatedSlots))),
            ("trailingBytes", .integer(Int64(inspection.trailingBytes))),
            ("indexProblems", .array(inspection.problems.map { .string($0) })),
        ]
        if let check { members.append(("indexChecks", .array([check.json]))) }
        members.append(("problems", .integer(Int64(problemCount))))
        JSONValue.object(members).write(to: output)
        output.append("\n")
    }
}
