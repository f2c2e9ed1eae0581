import Benchmark
import Foundation
import StreamStore

/// The write-side guards of issue #8: what the message-id de-duplication window and idempotent
/// producer sequences cost an append. Same shape as `appendSequential100B` (one iteration = fill
/// a reused batch with 1,000 records of 100 bytes and append it, flush `.never`), in four
/// variants so the ratios come from one run: window off or on, times records with or without a
/// unique `message-id` header ("order-" and a decimal counter, as a service would send), plus
/// idempotent batches (producer id, epoch and sequence in the header) without message ids.
/// Every id is new, so the window does its full work per record (look-up, insert, expiry) and
/// nothing is dropped; at the full scale the window reaches its bound of
/// `dedupeMaxMessageIDs` (100,000 by default) and evicts its oldest id per insert, as a
/// long-running producer would make it.
func registerGuardBenchmarks(scale: Scale, configuration: (Int, [BenchmarkMetric]) -> Benchmark.Configuration) {
    let rateMetrics = [Metric.recordsPerSecond, Metric.megabytesPerSecond]
    struct GuardState {
        var log: OpenStore
        var value: ValueBuffer
        var batch: RecordBatch
        var nextID = 0
        var nextSequence: Int32 = 0
    }
    enum Variant: String, CaseIterable {
        case plain = "window:off,ids:none"
        case idsOnly = "window:off,ids:unique"
        case windowNoIDs = "window:on,ids:none"
        case window = "window:on,ids:unique"
        case idempotent = "idempotentProducer"

        var carriesIDs: Bool { self == .idsOnly || self == .window }
        var windowMilliseconds: Int64? { self == .windowNoIDs || self == .window ? 600_000 : nil }
    }
    for variant in Variant.allCases {
        let holder = Holder<GuardState>()
        let name = "appendGuarded100B/\(variant.rawValue)"
        Benchmark(
            name, configuration: configuration(scale.appendBatches100B, rateMetrics),
            closure: { (benchmark: Benchmark) async throws in
                let start = ContinuousClock.now
                var state = holder.value!
                holder.value = nil  // so the batch stays uniquely referenced (no copy on write)
                defer { holder.value = state }
                state.batch.removeAll()
                if variant == .idempotent {
                    state.batch.producerId = 42
                    state.batch.producerEpoch = 0
                    state.batch.baseSequence = state.nextSequence
                    state.nextSequence &+= Int32(batchRecords)
                }
                for _ in 0..<batchRecords {
                    if variant.carriesIDs {
                        let header = RecordHeader(key: "message-id", value: "order-\(state.nextID)")
                        state.nextID += 1
                        try state.batch.append(key: nil, value: state.value.raw, headers: [header])
                    } else {
                        try state.batch.append(key: nil, value: state.value.raw)
                    }
                }
                let receipt = try await state.log.topic.append(state.batch, partition: 0)
                let elapsed = start.duration(to: .now)
                benchmark.stopMeasurement()
                guard receipt.recordCount == batchRecords else {
                    benchmark.error("\(name): the append wrote \(receipt.recordCount) of \(batchRecords) records")
                    return
                }
                benchmark.recordRates(records: batchRecords, valueBytes: 100, elapsed: elapsed)
            },
            setup: {
                let config = TopicConfig(flush: .never, dedupeWindowMilliseconds: variant.windowMilliseconds)
                holder.value = GuardState(
                    log: try OpenStore(label: "guarded-\(variant)", config: config), value: ValueBuffer(count: 100),
                    batch: RecordBatch(capacityBytes: batchCapacity(valueBytes: 140)))
            },
            teardown: {
                holder.value?.log.closeAndRemove()
                holder.value = nil
            })
    }
}
