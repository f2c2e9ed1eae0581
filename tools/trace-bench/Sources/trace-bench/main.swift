// trace-bench fill DIR RECORDS SEGMENT_BYTES on|off [zstd]
//     fills a new store with flows (below); prints the append rate.
// trace-bench append DIR RECORDS SEGMENT_BYTES on|off
//     the append path alone: prebuilt batches appended to one partition; prints the rate.
//     TRACE_BENCH_LINGER=SECONDS waits that long before closing (filters built meanwhile).
// trace-bench trace DIR on|off REPEAT ID...
//     opens the store, traces each id REPEAT times, closes; prints the open and each trace.
//     TRACE_BENCH_EVICT=1 drops the store's pages from the page cache after the open.
// on|off is Store.Options.usesCorrelationFilters. Output is one JSON object.
import Foundation
import StreamStore

#if canImport(Glibc)
import Glibc
#endif

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: trace-bench fill|append DIR RECORDS SEGMENT_BYTES on|off [zstd], or trace DIR on|off REPEAT ID...\n".utf8))
    exit(64)
}

func options(filters: String) -> Store.Options {
    Store.Options(retentionCheckMilliseconds: nil, usesCorrelationFilters: filters == "on")
}

/// Flows of 4 events: placed (orders), settled (payments), shipped (shipments), delivered
/// (orders); orders has 4 partitions, payments and shipments 2, and a flow's events go to
/// partition `flow % partitions`. Each record: key customer-N, a JSON value of about 110 bytes,
/// headers correlation-id order-<flow>, message-id, event-type and (after the first) causation-id.
func fill(_ store: Store, records: Int, segmentBytes: Int, compression: Compression) async throws -> Duration {
    let partitions = [4, 2, 2]
    var topics: [Topic] = []
    for (name, count) in zip(["orders", "payments", "shipments"], partitions) {
        let config = TopicConfig(partitionCount: count, segmentBytes: segmentBytes, flush: .never, compression: compression, retentionMilliseconds: nil)
        topics.append(try store.createTopic(name, config: config))
    }
    let steps: [(topic: Int, type: String)] = [(0, "order-placed"), (1, "payment-settled"), (2, "order-shipped"), (0, "order-delivered")]
    var batches = partitions.map { [RecordBatch](repeating: RecordBatch(capacityBytes: 512 * 1024), count: $0) }
    let start = ContinuousClock.now
    for index in 0..<records {
        let flow = index / 4
        let step = steps[index % 4]
        let partition = flow % partitions[step.topic]
        let value = Array(
            #"{"type":"\#(step.type)","orderId":"o-\#(flow)","customerId":"customer-\#(flow % 50_000)","amountCents":\#(100 + flow % 9_900),"currency":"EUR"}"#.utf8)
        var headers = [RecordHeader(.correlationID, "order-\(flow)"), RecordHeader(.messageID, "m-\(index)"), RecordHeader(.eventType, step.type)]
        if index % 4 > 0 { headers.append(RecordHeader(.causationID, "m-\(index - 1)")) }
        let key = Array("customer-\(flow % 50_000)".utf8)
        try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { try batches[step.topic][partition].append(key: key, value: $0, headers: headers) }
        }
        if batches[step.topic][partition].count == 1000 {
            _ = try await topics[step.topic].append(batches[step.topic][partition], partition: partition)
            batches[step.topic][partition].removeAll()
        }
    }
    for topic in topics.indices {
        for partition in 0..<partitions[topic] where !batches[topic][partition].isEmpty {
            _ = try await topics[topic].append(batches[topic][partition], partition: partition)
        }
    }
    return start.duration(to: .now)
}

/// 200 batches of 1,000 records of about 200 bytes with correlation headers, made once.
func prebuiltBatches() throws -> [RecordBatch] {
    try (0..<200).map { batchIndex in
        var batch = RecordBatch(capacityBytes: 512 * 1024)
        for record in 0..<1000 {
            let index = batchIndex * 1000 + record
            let value = Array(
                #"{"type":"order-placed","orderId":"o-\#(index)","customerId":"customer-\#(index % 50_000)","amountCents":\#(index % 9_900),"currency":"EUR"}"#.utf8)
            let headers = [RecordHeader(.correlationID, "order-\(index / 4)"), RecordHeader(.messageID, "m-\(index)"), RecordHeader(.eventType, "order-placed")]
            try value.withUnsafeBytes { try batch.append(key: nil, value: $0, headers: headers) }
        }
        return batch
    }
}

/// Drops every page of the files under `folder` from the page cache (they are clean after a
/// close), so what is read next comes from the disk; other files of the machine are untouched.
func evictFromPageCache(_ folder: String) {
    guard let names = FileManager.default.enumerator(atPath: folder) else { return }
    while let name = names.nextObject() as? String {
        let fd = open(folder + "/" + name, O_RDONLY)
        guard fd >= 0 else { continue }
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        _ = close(fd)
    }
}

let arguments = CommandLine.arguments
let environment = ProcessInfo.processInfo.environment
guard arguments.count >= 5 else { usage() }
switch arguments[1] {
case "fill", "append":
    guard arguments.count >= 6, let records = Int(arguments[3]), let segmentBytes = Int(arguments[4]) else { usage() }
    let store = try Store.open(at: arguments[2], options: options(filters: arguments[5]))
    let elapsed: Duration
    if arguments[1] == "fill" {
        elapsed = try await fill(store, records: records, segmentBytes: segmentBytes, compression: arguments.count > 6 ? .zstd(level: 1) : .none)
    } else {
        let batches = try prebuiltBatches()
        let topic = try store.createTopic("appends", config: TopicConfig(segmentBytes: segmentBytes, flush: .never, retentionMilliseconds: nil))
        let start = ContinuousClock.now
        for index in 0..<(records / 1000) { _ = try await topic.append(batches[index % batches.count], partition: 0) }
        elapsed = start.duration(to: .now)
        if let linger = environment["TRACE_BENCH_LINGER"].flatMap(Double.init) { try await Task.sleep(for: .seconds(linger)) }
    }
    try store.close()
    print(#"{"records":\#(records),"seconds":\#(seconds(elapsed)),"recordsPerSecond":\#(Int(Double(records) / seconds(elapsed)))}"#)
case "trace":
    guard let repeats = Int(arguments[4]), arguments.count > 5 else { usage() }
    let openStart = ContinuousClock.now
    let store = try Store.open(at: arguments[2], options: options(filters: arguments[3]))
    let opened = openStart.duration(to: .now)
    if environment["TRACE_BENCH_EVICT"] == "1" { evictFromPageCache(arguments[2]) }
    var traces: [String] = []
    for id in arguments[5...] {
        for run in 0..<repeats {
            let start = ContinuousClock.now
            let report = try store.trace(correlationID: id)
            let elapsed = start.duration(to: .now)
            let statistics = report.statistics
            traces.append(
                #"{"id":"\#(id)","run":\#(run),"ms":\#(seconds(elapsed) * 1000),"records":\#(report.records.count),"scanned":\#(statistics.segmentsScanned),"#
                    + #""skipped":\#(statistics.segmentsSkippedByFilter),"withoutFilter":\#(statistics.segmentsWithoutUsableFilter),"#
                    + #""written":\#(statistics.filtersWritten),"bytesRead":\#(statistics.bytesRead),"problems":\#(report.problems.count)}"#)
        }
    }
    try store.close()
    print(#"{"openMs":\#(seconds(opened) * 1000),"traces":[\#(traces.joined(separator: ","))]}"#)
default:
    usage()
}
