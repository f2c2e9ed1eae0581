import StreamStore
import StreamStoreInspect

/// Shared by the log and index dumps: how each index file of a segment compares with its log.
struct IndexCheckReport {
    var file: SegmentFilePath
    var entryCount: Int?
    var check: IndexLogCheck?
    /// False when the topic's `topic.json` was not found, so the entries were not compared with
    /// the writer's cadence.
    var cadenceCompared = false
    /// Problems of the index file itself, or why it could not be checked.
    var problems: [String]

    var allProblems: [String] { problems + (check?.problems ?? []) }

    /// Reads `file` (an index) and compares it with the segment's log.
    static func make(for file: SegmentFilePath) -> IndexCheckReport {
        let logPath = file.sibling(.log)
        do throws(StreamStoreError) {
            let inspection = try IndexFileInspection(file: file)
            let config = file.topicConfig()
            let check = try inspection.check(againstLog: logPath, indexIntervalBytes: config?.indexIntervalBytes, sealed: file.hasLaterSegment)
            return IndexCheckReport(
                file: file, entryCount: inspection.entries.count, check: check, cadenceCompared: config != nil, problems: inspection.problems)
        } catch {
            return IndexCheckReport(file: file, entryCount: nil, check: nil, problems: ["cannot be checked: \(error.message)"])
        }
    }

    /// `Offset index 00000000000000000000.index against the log: agrees (3 entries, 12 batches).`
    func writeText(to output: BufferedOutput, colours: Colours) {
        let name = file.path.split(separator: "/").last.map(String.init) ?? file.path
        let title = file.kind == .timeIndex ? "Time index" : "Offset index"
        var facts: [String] = []
        if let entryCount { facts.append(Format.count(Int64(entryCount), "entry", "entries")) }
        if let check { facts.append(Format.count(Int64(check.batchCount), "batch", "batches") + " in the log") }
        if check != nil && !cadenceCompared { facts.append("no topic.json, so the writer's cadence was not compared") }
        let all = allProblems
        let verdict = all.isEmpty ? colours.green("agrees") : colours.red("\(all.count) problem\(all.count == 1 ? "" : "s")")
        output.append("\(title) \(name) against the log: \(verdict)\(facts.isEmpty ? "" : " (" + facts.joined(separator: ", ") + ")")\(all.isEmpty ? "." : ":")\n")
        for problem in all { output.append("    \(problem)\n") }
    }

    var json: JSONValue {
        .object([
            ("file", .string(file.path)),
            ("kind", .string(file.kind.rawValue)),
            ("entries", entryCount.map { .integer(Int64($0)) } ?? .null),
            ("expectedEntries", check?.expectedEntryCount.map { .integer(Int64($0)) } ?? .null),
            ("logBatches", check.map { .integer(Int64($0.batchCount)) } ?? .null),
            ("problems", .array(allProblems.map { .string($0) })),
        ])
    }
}
