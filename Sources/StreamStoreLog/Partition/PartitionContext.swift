import StreamStoreFormat
import Logging

/// What every part of one partition shares: who it is, its settings, and the store's services.
package final class PartitionContext: Sendable {
    let topic: String
    let partition: Int
    package let folder: String
    /// The log's settings as they are now: read afresh each time, so a changed setting applies
    /// to the next batch.
    package var config: LogConfig { currentConfig() }
    let currentConfig: @Sendable () -> LogConfig
    let fileSystem: FileSystem
    let cache: SegmentFileCache
    /// Builds the correlation filters of segments this partition seals (store-wide).
    package let correlationFilters: CorrelationFilterQueue
    package let clock: StoreClock
    package let logger: Logger
    let metrics: PartitionMetrics
    /// Whether this process writes the partition or reads what another process writes.
    let access: LogAccess
    package var isReadOnly: Bool {
        if case .reader = access { return true }
        return false
    }

    package init(
        topic: String, partition: Int, folder: String, currentConfig: @escaping @Sendable () -> LogConfig, fileSystem: FileSystem, cache: SegmentFileCache,
        correlationFilters: CorrelationFilterQueue, clock: StoreClock, logger: Logger, metrics: PartitionMetrics,
        access: LogAccess
    ) {
        self.access = access
        self.topic = topic
        self.partition = partition
        self.folder = folder
        self.currentConfig = currentConfig
        self.fileSystem = fileSystem
        self.cache = cache
        self.correlationFilters = correlationFilters
        self.clock = clock
        var logger = logger
        logger[metadataKey: "topic"] = "\(topic)"
        logger[metadataKey: "partition"] = "\(partition)"
        self.logger = logger
        self.metrics = metrics
    }

    /// fsyncs one of the partition's segment logs, counted and timed in ``metrics`` (failed
    /// fsyncs too: their latency is what an operator looks for).
    func syncLog(_ log: File) throws(StreamStoreError) {
        let start = SystemClock.monotonicNanoseconds()
        defer { metrics.recordFsync(nanoseconds: SystemClock.monotonicNanoseconds() - start) }
        try log.syncData()
    }
}

/// How a process uses a partition's log.
package enum LogAccess: Sendable {
    /// The one writer; every publish of the visible end signals the store's live file, waking
    /// reader processes.
    case writer(LiveStoreFile)
    /// A reader of what the writer process publishes; it changes no file of the log. `wake` is
    /// called when one of its readers starts waiting for the log to grow.
    case reader(wake: @Sendable () -> Void)
}
