import Benchmark
import Foundation
import StreamStore

extension Metric {
    /// Segments whose log one trace read (the rest were skipped by their correlation filters).
    static var segmentsScanned: BenchmarkMetric { .custom("segments scanned", polarity: .prefersSmaller, useScalingFactor: false) }
}

/// Events per flow in the trace workloads: placed and shipped in `orders`, authorized and
/// settled in `payments`.
let traceEventsPerFlow = 4

/// Appends `records` events to topics `orders` and `payments` (2 partitions each): event `i`
/// belongs to flow `order-<i / 4>` (its `correlation-id`), goes to `orders` when `i` is even and
/// `payments` when odd, to partition `flow % 2`, with a message id, an event type and a JSON
/// value of about 80 bytes. Batches of 1,000 per partition, flush `.never`.
func fillFlows(_ store: Store, records: Int, segmentBytes: Int) async throws {
    let config = TopicConfig(partitionCount: 2, segmentBytes: segmentBytes, flush: .never, retentionMilliseconds: nil)
    let topics = [try store.createTopic("orders", config: config), try store.createTopic("payments", config: config)]
    let types = [["order-placed", "order-shipped"], ["payment-authorized", "payment-settled"]]
    var batches = [[RecordBatch]](repeating: [RecordBatch](repeating: RecordBatch(capacityBytes: 256 * 1024), count: 2), count: 2)
    for index in 0..<records {
        let flow = index / traceEventsPerFlow
        let (topic, partition) = (index % 2, flow % 2)
        let type = types[topic][(index / 2) % 2]
        let value = Array(#"{"type":"\#(type)","orderId":"o-\#(flow)","amountCents":\#(100 + flow % 9_900),"currency":"EUR"}"#.utf8)
        let headers = [
            RecordHeader(.correlationID, "order-\(flow)"), RecordHeader(.messageID, "m-\(index)"), RecordHeader(.eventType, type),
        ]
        try value.withUnsafeBytes { try batches[topic][partition].append(key: nil, value: $0, headers: headers) }
        if batches[topic][partition].count == batchRecords {
            _ = try await topics[topic].append(batches[topic][partition], partition: partition)
            batches[topic][partition].removeAll()
        }
    }
    for topic in 0..<2 {
        for partition in 0..<2 where !batches[topic][partition].isEmpty {
            _ = try await topics[topic].append(batches[topic][partition], partition: partition)
        }
    }
}

/// Tracing (issue #8): one iteration = `store.trace(correlationID:)` of a random flow, checked to
/// find its four events; with the sealed segments' correlation filters (`filters:on`, every
/// filter written before measuring) and without them (`filters:off`: every segment scanned).
/// The log was just written, so it is read from the page cache.
func registerTraceBenchmarks(scale: Scale, configuration: (Int, [BenchmarkMetric]) -> Benchmark.Configuration) {
    struct TraceState {
        var folder: String
        var store: Store
        var random = SplitMix64(state: 7)
    }
    let flows = scale.traceRecords / traceEventsPerFlow
    for usesFilters in [true, false] {
        let holder = Holder<TraceState>()
        Benchmark(
            "traceCorrelationID/filters:\(usesFilters ? "on" : "off")", configuration: configuration(scale.traceRuns, [Metric.segmentsScanned]),
            closure: { (benchmark: Benchmark) throws in
                let flow = holder.value!.random.next(below: flows)
                let report = try holder.value!.store.trace(correlationID: "order-\(flow)")
                benchmark.stopMeasurement()
                guard report.records.count == traceEventsPerFlow, report.problems.isEmpty else {
                    benchmark.error("trace of order-\(flow) found \(report.records.count) records (problems: \(report.problems)), expected \(traceEventsPerFlow)")
                    return
                }
                benchmark.measurement(Metric.segmentsScanned, report.statistics.segmentsScanned)
            },
            setup: {
                let folder = freshStoreFolder("trace")
                let filling = try Store.open(at: folder)
                try await fillFlows(filling, records: scale.traceRecords, segmentBytes: scale.traceSegmentBytes)
                try filling.close()
                let store = try Store.open(at: folder, options: Store.Options(usesCorrelationFilters: usesFilters))
                // Writes the filters the close left unbuilt, so every iteration finds them all.
                _ = try store.trace(correlationID: "order-0")
                holder.value = TraceState(folder: folder, store: store)
            },
            teardown: {
                try? holder.value?.store.close()
                if let folder = holder.value?.folder { removeFolder(folder) }
                holder.value = nil
            })
    }
}
