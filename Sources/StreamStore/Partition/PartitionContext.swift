import Logging

/// What every part of one partition shares: who it is, its settings, and the store's services.
final class PartitionContext: Sendable {
    let topic: String
    let partition: Int
    let folder: String
    /// The topic's settings as they are now (shared with the topic; see ``Store/updateTopic(_:_:)``).
    var config: TopicConfig { settings.withLock { $0 } }
    let settings: Locked<TopicConfig>
    let fileSystem: FileSystem
    let cache: SegmentFileCache
    /// Builds the correlation filters of segments this partition seals (store-wide).
    let correlationFilters: CorrelationFilterQueue
    let clock: StoreClock
    let logger: Logger
    let metrics: PartitionMetrics

    init(
        topic: String, partition: Int, folder: String, settings: Locked<TopicConfig>, fileSystem: FileSystem, cache: SegmentFileCache,
        correlationFilters: CorrelationFilterQueue, clock: StoreClock, logger: Logger, metrics: PartitionMetrics
    ) {
        self.topic = topic
        self.partition = partition
        self.folder = folder
        self.settings = settings
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
