import StreamStore

/// Writes replayed records in the chosen format, walking each batch's records in place (no
/// object per record) into one buffered stdout writer, and keeps count against `--limit`.
///
/// It also says, after each batch, the offset the partition's replay goes on from: what
/// `--commit` commits once the output is flushed.
struct ReplayPrinter {
    /// Where a batch left its partition.
    struct Progress {
        /// The next offset to print: after the last record printed, or after the whole batch
        /// when every record in range was printed.
        var nextOffset: Int64
        /// True when a record stamped after `--until-time` was reached: the partition is done.
        var reachedUntilTime: Bool
    }

    let topicName: String
    let format: StreamTool.Replay.OutputFormat
    let limit: Int?
    let untilTimestamp: Int64?
    let output = BufferedOutput()
    private var writer: RecordWriter
    private var jsonPrefixes: [Int: [UInt8]] = [:]
    private(set) var printed = 0

    init(topicName: String, format: StreamTool.Replay.OutputFormat, limit: Int?, untilTimestamp: Int64?) {
        self.topicName = topicName
        self.format = format
        self.limit = limit
        self.untilTimestamp = untilTimestamp
        writer = RecordWriter(output: output)
    }

    var limitReached: Bool { limit.map { printed >= $0 } ?? false }

    /// The column titles of the text format; nothing for the others.
    func writeTitles() {
        if format == .text { writer.appendTextTitles(withPartition: true) }
    }

    /// Writes the records of `batch` (one of `partition`'s) at `startOffset` and after, below
    /// `endOffset`, until the limit or a record stamped after the until-time.
    mutating func write(_ batch: StoredBatch, partition: Int, from startOffset: Int64, below endOffset: Int64) throws -> Progress {
        let prefix = jsonPrefix(partition: partition)
        var progress = Progress(nextOffset: startOffset, reachedUntilTime: false)
        var stopped = false
        try batch.forEachRecord(from: startOffset) { record in
            guard !stopped else { return }
            if record.offset >= endOffset || limitReached {
                stopped = true
                return
            }
            if let untilTimestamp, record.timestamp > untilTimestamp {
                stopped = true
                progress.reachedUntilTime = true
                return
            }
            write(record, partition: partition, jsonPrefix: prefix)
            printed += 1
            progress.nextOffset = record.offset + 1
        }
        // Offsets without a record to print (a control batch's, say) count as done with the batch.
        if !stopped { progress.nextOffset = max(progress.nextOffset, min(batch.nextOffset, endOffset)) }
        return progress
    }

    private mutating func write(_ record: borrowing RecordView, partition: Int, jsonPrefix: [UInt8]) {
        switch format {
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
    private mutating func jsonPrefix(partition: Int) -> [UInt8] {
        if let prefix = jsonPrefixes[partition] { return prefix }
        let prefix = BufferedOutput(capacityBytes: 64)
        prefix.append("{\"topic\":")
        JSONText.appendString(topicName, to: prefix)
        prefix.append(",\"partition\":\(partition),\"offset\":")
        let bytes = Array(prefix.takeString().utf8)
        jsonPrefixes[partition] = bytes
        return bytes
    }
}
