// Append and replay throughput of one partition, for the figures in closing notes until the
// benchmark suite (`Benchmarks/`, `stream-tool bench`) lands.
//
// usage: stream-throughput RECORDS RECORD_BYTES BATCH_RECORDS FLUSH(never|everyAppend) [DIR]
import Foundation
import StreamStore

let arguments = CommandLine.arguments
guard arguments.count >= 5, let records = Int(arguments[1]), let recordBytes = Int(arguments[2]),
    let batchRecords = Int(arguments[3]), let flush = FlushPolicy(configValue: arguments[4])
else {
    FileHandle.standardError.write(Data("usage: stream-throughput RECORDS RECORD_BYTES BATCH_RECORDS never|everyAppend [DIR]\n".utf8))
    exit(2)
}
let folder = arguments.count > 5 ? arguments[5] : NSTemporaryDirectory() + "stream-throughput-\(getpid())"
try? FileManager.default.removeItem(atPath: folder)
defer { try? FileManager.default.removeItem(atPath: folder) }

func seconds(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

do {
    let store = try Store.open(at: folder)
    let topic = try store.createTopic("bench", config: TopicConfig(flush: flush))
    let value = UnsafeMutableRawBufferPointer.allocate(byteCount: recordBytes, alignment: 8)
    defer { value.deallocate() }
    for index in 0..<recordBytes { value[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
    let valueBytes = UnsafeRawBufferPointer(value)
    var batch = RecordBatch(capacityBytes: batchRecords * (recordBytes + 16) + 128)
    let appendStart = ContinuousClock.now
    var written = 0
    while written < records {
        batch.removeAll()
        for _ in 0..<min(batchRecords, records - written) { try batch.append(key: nil, value: valueBytes) }
        written += batch.count
        _ = try await topic.append(batch, partition: 0)
    }
    let appendSeconds = seconds(appendStart)

    let replayStart = ContinuousClock.now
    var offset: Int64 = 0
    var seen = 0
    var checksum = 0
    while true {
        let batches = try topic.readBatches(partition: 0, from: offset, maxBytes: 4 << 20)
        guard let last = batches.last else { break }
        for batch in batches {
            try batch.forEachRecord(from: offset) { record in
                seen += 1
                checksum &+= record.value?.count ?? 0
            }
        }
        offset = last.nextOffset
    }
    let replaySeconds = seconds(replayStart)

    let recordLevelStart = ContinuousClock.now
    offset = 0
    var seenRecords = 0
    while true {
        let page = try topic.read(partition: 0, from: offset, maxBytes: 4 << 20)
        guard let last = page.last else { break }
        seenRecords += page.count
        offset = last.offset + 1
    }
    let recordLevelSeconds = seconds(recordLevelStart)
    try store.close()
    precondition(seen == records && seenRecords == records && checksum == records * recordBytes, "replay saw \(seen)/\(seenRecords) of \(records)")

    let megabytes = Double(records * recordBytes) / 1e6
    func line(_ name: String, _ seconds: Double) -> String {
        String(format: "%-22@ %12.0f records/s %9.1f MB/s  (%.2f s)", name as NSString, Double(records) / seconds, megabytes / seconds, seconds)
    }
    print("\(records) records of \(recordBytes) B, batches of \(batchRecords), flush \(flush.configValue)")
    print(line("append", appendSeconds))
    print(line("replay (batch level)", replaySeconds))
    print(line("replay (records)", recordLevelSeconds))
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
