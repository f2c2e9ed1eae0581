// Append and replay throughput of one partition, for the figures in closing notes until the
// benchmark suite (`Benchmarks/`, `stream-tool bench`) lands.
//
// usage: stream-throughput RECORDS RECORD_BYTES BATCH_RECORDS FLUSH(never|everyAppend) [COMPRESSION] [PAYLOAD]
//   COMPRESSION: none (default), zstd, zstd:LEVEL
//   PAYLOAD: pattern (default: RECORD_BYTES of a fixed byte pattern), random (RECORD_BYTES of random
//   bytes), json (order events of about 300 bytes with realistic variety; RECORD_BYTES ignored)
import Foundation
import StreamStore

let arguments = CommandLine.arguments
guard arguments.count >= 5, let records = Int(arguments[1]), let recordBytes = Int(arguments[2]),
    let batchRecords = Int(arguments[3]), let flush = FlushPolicy(configValue: arguments[4]),
    let compression = Compression(configValue: arguments.count > 5 ? arguments[5] : "none"),
    ["pattern", "random", "json"].contains(arguments.count > 6 ? arguments[6] : "pattern")
else {
    FileHandle.standardError.write(Data("usage: stream-throughput RECORDS RECORD_BYTES BATCH_RECORDS never|everyAppend [none|zstd[:LEVEL]] [pattern|random|json]\n".utf8))
    exit(2)
}
let payload = arguments.count > 6 ? arguments[6] : "pattern"
let folder = NSTemporaryDirectory() + "stream-throughput-\(getpid())"
try? FileManager.default.removeItem(atPath: folder)
defer { try? FileManager.default.removeItem(atPath: folder) }

func seconds(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

do {
    let store = try Store.open(at: folder)
    let topic = try store.createTopic("bench", config: TopicConfig(flush: flush, compression: compression))
    // A pool of distinct values, cycled through, so the payload is made before the clock starts.
    var generator = SystemRandomNumberGenerator()
    let pool: [[UInt8]] = (0..<4096).map { index in
        switch payload {
        case "random": return (0..<recordBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case "json": return Array(orderEvent(index, using: &generator).utf8)
        default: return (0..<recordBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        }
    }
    let poolBytes = pool.reduce(0) { $0 + $1.count }
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: poolBytes, alignment: 8)
    defer { storage.deallocate() }
    var values: [UnsafeRawBufferPointer] = []
    var cursor = 0
    for value in pool {
        let slice = UnsafeMutableRawBufferPointer(rebasing: storage[cursor..<(cursor + value.count)])
        slice.copyBytes(from: value)
        values.append(UnsafeRawBufferPointer(slice))
        cursor += value.count
    }
    var batch = RecordBatch(capacityBytes: batchRecords * (poolBytes / pool.count + 16) + 128)
    var payloadBytes = 0
    let appendStart = ContinuousClock.now
    var written = 0
    while written < records {
        batch.removeAll()
        for index in written..<min(written + batchRecords, records) {
            let value = values[index & 4095]
            payloadBytes += value.count
            try batch.append(key: nil, value: value)
        }
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
    let info = try topic.info(partition: 0)
    try store.close()
    precondition(seen == records && seenRecords == records && checksum == payloadBytes, "replay saw \(seen)/\(seenRecords) of \(records)")

    let megabytes = Double(payloadBytes) / 1e6
    func line(_ name: String, _ seconds: Double) -> String {
        String(format: "%-22@ %12.0f records/s %9.1f MB/s  (%.2f s)", name as NSString, Double(records) / seconds, megabytes / seconds, seconds)
    }
    print("\(records) records of \(payloadBytes / records) B (\(payload)), batches of \(batchRecords), flush \(flush.configValue), compression \(compression)")
    print(String(format: "on disk %.1f MB for %.1f MB of batches: ratio %.2f", Double(info.logBytes) / 1e6, Double(info.uncompressedBytes) / 1e6, info.compressionRatio))
    print(line("append", appendSeconds))
    print(line("replay (batch level)", replaySeconds))
    print(line("replay (records)", recordLevelSeconds))
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}

/// An order event of about 300 bytes with realistic variety (ids, amounts, cities, times).
func orderEvent(_ index: Int, using generator: inout SystemRandomNumberGenerator) -> String {
    let types = ["order-placed", "order-paid", "order-shipped"]
    let cities = ["Lisbon", "Berlin", "Osaka", "Austin", "Nairobi", "Lyon", "Porto", "Quito"]
    let hour = Int.random(in: 10...19, using: &generator)
    let minute = Int.random(in: 10...59, using: &generator)
    return """
        {"type":"\(types[index % 3])","orderId":"o-\(100_000 + index)","customerId":"customer-\(Int.random(in: 0...4_999, using: &generator))",\
        "amountCents":\(Int.random(in: 100...99_999, using: &generator)),"currency":"EUR","items":\(Int.random(in: 1...8, using: &generator)),\
        "city":"\(cities.randomElement(using: &generator)!)","placedAt":"2026-11-29T\(hour):\(minute):00Z",\
        "correlationId":"c-\(index / 3)","sku":"SKU-\(Int.random(in: 0...999_999, using: &generator))","channel":"web",\
        "email":"shopper\(Int.random(in: 0...99_999, using: &generator))@example.com","street":"\(Int.random(in: 1...400, using: &generator)) Harbour Road"}
        """
}
