import StreamStoreFormat
import CoreMetrics

/// The metric handles of one partition, labelled `topic` and `partition`, made when the
/// partition opens so that the append path only increments (no lookup, no allocation).
///
/// A class, not a struct: reached through ``PartitionContext`` on every append, a struct of ten
/// references was copied there (ten retains and releases per batch, seen in `perf record`).
package final class PartitionMetrics: Sendable {
    let appendedRecords: any CounterHandler
    /// Bytes of batches written to the log, as stored (header included, compressed if so).
    let appendedBytes: any CounterHandler
    let appendedBatches: any CounterHandler
    /// fsyncs of the partition's segment logs: group commits, interval flushes, rolls, recovery
    /// and close. Directory and checkpoint fsyncs are not counted.
    let fsyncs: any CounterHandler
    let fsyncDuration: any TimerHandler
    /// Recoveries that cut bytes off the log, and how many bytes they cut.
    let recoveryTruncations: any CounterHandler
    let recoveryTruncatedBytes: any CounterHandler
    /// Idempotent producers' retried batches that were not written again.
    let duplicateBatches: any CounterHandler
    /// For the lag gauges of the groups that commit offsets of this partition.
    private let factory: any MetricsFactory
    private let dimensions: [(String, String)]

    package init(factory: any MetricsFactory, topic: String, partition: Int) {
        let dimensions = [("topic", topic), ("partition", String(partition))]
        appendedRecords = factory.makeCounter(label: MetricName.appendedRecords, dimensions: dimensions)
        appendedBytes = factory.makeCounter(label: MetricName.appendedBytes, dimensions: dimensions)
        appendedBatches = factory.makeCounter(label: MetricName.appendedBatches, dimensions: dimensions)
        fsyncs = factory.makeCounter(label: MetricName.fsyncs, dimensions: dimensions)
        fsyncDuration = factory.makeTimer(label: MetricName.fsyncDuration, dimensions: dimensions)
        recoveryTruncations = factory.makeCounter(label: MetricName.recoveryTruncations, dimensions: dimensions)
        recoveryTruncatedBytes = factory.makeCounter(label: MetricName.recoveryTruncatedBytes, dimensions: dimensions)
        duplicateBatches = factory.makeCounter(label: MetricName.duplicateBatches, dimensions: dimensions)
        self.factory = factory
        self.dimensions = dimensions
    }

    /// One batch written: three increments, nothing allocated.
    @inline(__always)
    func recordAppend(records: Int, bytes: Int64) {
        appendedRecords.increment(by: Int64(records))
        appendedBytes.increment(by: bytes)
        appendedBatches.increment(by: 1)
    }

    func recordFsync(nanoseconds: UInt64) {
        fsyncs.increment(by: 1)
        fsyncDuration.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    func recordRecoveryTruncation(bytes: Int64) {
        recoveryTruncations.increment(by: 1)
        recoveryTruncatedBytes.increment(by: bytes)
    }

    /// The gauge of `group`'s lag on this partition (``PartitionLagGauges``).
    func makeLagGauge(group: String) -> any RecorderHandler {
        factory.makeRecorder(label: MetricName.consumerLag, dimensions: [("group", group)] + dimensions, aggregate: false)
    }
}
