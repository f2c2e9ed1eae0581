import CoreMetrics
import Logging
import StreamStore
import StreamStoreFormat

/// Copies topics between a ``/StreamStore/Store`` and a Kafka-protocol cluster (Kafka, Redpanda,
/// Tansu, another store's `stream-tool serve`), record by record in partition order, keeping
/// keys, values, headers and timestamps, exactly once across crashes and restarts
/// (docs/SCALING.md).
///
/// ```swift
/// let mirror = try KafkaMirror(store: store, configuration: KafkaMirrorConfiguration(
///     direction: .toCluster, bootstrapServers: ["kafka-1:9092", "kafka-2:9092"], topics: ["orders"]))
/// let summary = try await mirror.run()   // stops at the log ends; `follow: true` keeps going
/// ```
///
/// To a cluster, topics missing there are created with the store's partition count, and
/// records go out through an idempotent producer with `acks=all`; the store's consumer group
/// `mirror-<name>` is committed once the cluster acknowledged. From a cluster, the store's
/// topics are created to match, records are appended with the store's durability, and the
/// cluster's group `mirror-<name>` is committed after that. A lost connection, a leader change
/// or a broker restart is retried with backoff; whatever was in flight is neither lost nor
/// written twice, because each run continues from where the copy itself ends.
public final class KafkaMirror: Sendable {
    let store: Store
    let configuration: KafkaMirrorConfiguration
    let addresses: [KafkaClient.Address]
    let metrics: MirrorMetrics
    private let state = Locked(KafkaMirrorProgress())
    /// Records behind, by `topic/partition`; their sum is the progress's lag.
    private let lags = Locked<[String: Int64]>([:])
    private let started = ContinuousClock.now

    /// Checks the configuration; nothing is contacted before ``run()``.
    public init(store: Store, configuration: KafkaMirrorConfiguration) throws(KafkaClientError) {
        guard Self.isValidName(configuration.name) else {
            throw KafkaClientError(.invalidConfiguration, "Mirror name \"\(configuration.name)\" must be 1 to 200 of letters, digits, '.', '_' and '-'.")
        }
        guard (1...5).contains(configuration.maxInFlightRequests) else {
            throw KafkaClientError(.invalidConfiguration, "maxInFlightRequests must be 1 to 5: past 5 an idempotent producer's batches may be reordered.")
        }
        guard configuration.maxBatchBytes >= 1024, configuration.maxBatchBytes <= Limits.maxBatchBytes else {
            throw KafkaClientError(.invalidConfiguration, "maxBatchBytes must be 1024 to \(Limits.maxBatchBytes).")
        }
        var addresses: [KafkaClient.Address] = []
        for text in configuration.bootstrapServers { addresses.append(try KafkaClient.Address.parse(text)) }
        guard !addresses.isEmpty else { throw KafkaClientError(.invalidConfiguration, "No bootstrap server was given.") }
        self.store = store
        self.configuration = configuration
        self.addresses = addresses
        metrics = MirrorMetrics(factory: configuration.metricsFactory ?? MetricsSystem.factory, name: configuration.name, direction: configuration.direction)
    }

    /// Where the run is now; safe to read from any task while ``run()`` works.
    public var progress: KafkaMirrorProgress {
        var progress = state.withLock { $0 }
        progress.elapsedSeconds = Self.seconds(ContinuousClock.now - started)
        return progress
    }

    /// Copies until the source's log ends (as they were when the run began), or with
    /// ``KafkaMirrorConfiguration/follow`` until the task is cancelled, and returns the final
    /// progress. Failures that may pass are retried with backoff; others are thrown (as
    /// ``KafkaClientError`` or ``/StreamStoreFormat/StreamStoreError``), with everything
    /// acknowledged so far committed.
    @discardableResult
    public func run() async throws -> KafkaMirrorProgress {
        let client = try KafkaClient(
            bootstrap: addresses, clientId: "streamstore-mirror-\(configuration.name)",
            timeouts: KafkaClient.Timeouts(connectMilliseconds: configuration.connectTimeoutMilliseconds, requestMilliseconds: configuration.requestTimeoutMilliseconds),
            tls: configuration.tls, sasl: configuration.sasl, logger: configuration.logger)
        let stateFile = MirrorStateFile(storePath: store.path, direction: configuration.direction.rawValue, name: configuration.name)
        var failures = 0
        var producerFailures = 0
        var backoff = configuration.retryBackoffMilliseconds
        defer { Task { await client.close() } }
        // The ends a one-shot run stops at, fixed by its first session.
        let stopAt = Locked<[String: Int64]?>(nil)
        while true {
            let before = progress.records
            do {
                switch configuration.direction {
                case .toCluster: try await ToClusterSession(mirror: self, client: client, stateFile: stateFile, stopAt: stopAt).run()
                case .fromCluster: try await FromClusterSession(mirror: self, client: client, stateFile: stateFile, stopAt: stopAt).run()
                }
                return progress
            } catch let error as KafkaClientError where error.isRetriable || Self.isProducerStateError(error) {
                if Task.isCancelled { return progress }
                if progress.records > before { failures = 0 }
                failures += 1
                if Self.isProducerStateError(error) {
                    producerFailures += 1
                    // A broker that still refuses the saved producer after a few fresh looks at
                    // the partitions' ends has lost (or fenced) it: start a new one.
                    if producerFailures >= 3 {
                        var saved = try stateFile.load()
                        saved.producerId = nil
                        saved.producerEpoch = nil
                        try stateFile.save(saved)
                        producerFailures = 0
                        configuration.logger.warning("Mirror \(configuration.name): the cluster no longer knows its producer; continuing with a new producer id.")
                    }
                } else {
                    producerFailures = 0
                }
                if let limit = configuration.maxConsecutiveFailures, failures > limit { throw error }
                state.withLock { $0.retries += 1 }
                metrics.retries.increment(by: 1)
                configuration.logger.warning("Mirror \(configuration.name): \(error.message) Retrying in \(backoff) ms.")
                try? await Task.sleep(for: .milliseconds(backoff))
                if Task.isCancelled { return progress }
                backoff = progress.records > before ? configuration.retryBackoffMilliseconds : min(backoff * 2, configuration.maxRetryBackoffMilliseconds)
            }
        }
    }

    /// 1 to 200 of `A-Z a-z 0-9 . _ -`, as the store's group names.
    static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 200 else { return false }
        for byte in name.utf8 {
            let isLetter = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            let isDigit = (0x30...0x39).contains(byte)
            let isMark = byte == 0x2E || byte == 0x5F || byte == 0x2D
            if !(isLetter || isDigit || isMark) { return false }
        }
        return true
    }

    /// OUT_OF_ORDER_SEQUENCE_NUMBER (45), INVALID_PRODUCER_EPOCH (47), UNKNOWN_PRODUCER_ID (59):
    /// the broker's view of the producer differs from the mirror's. Retried after a fresh look
    /// at the target's ends; a new producer is taken when that does not help.
    static func isProducerStateError(_ error: KafkaClientError) -> Bool {
        error.code == .broker && [45, 47, 59].contains(error.kafkaErrorCode ?? 0)
    }

    /// Counts records and bytes the other side acknowledged.
    func acknowledged(records: Int64, bytes: Int64) {
        state.withLock {
            $0.records += records
            $0.bytes += bytes
        }
        metrics.records.increment(by: records)
        metrics.bytes.increment(by: bytes)
    }

    func setLag(_ key: String, records: Int64) {
        let total = lags.withLock { lags in
            lags[key] = records
            return lags.values.reduce(0, +)
        }
        state.withLock { $0.lagRecords = total }
        metrics.lag.record(total)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The metric handles of one mirror (labels `mirror` and `direction`).
struct MirrorMetrics: Sendable {
    let records: Counter
    let bytes: Counter
    let retries: Counter
    let lag: Gauge

    init(factory: any MetricsFactory, name: String, direction: KafkaMirrorConfiguration.Direction) {
        let dimensions = [("mirror", name), ("direction", direction.rawValue)]
        records = Counter(label: "streamstore_mirror_records_total", dimensions: dimensions, factory: factory)
        bytes = Counter(label: "streamstore_mirror_bytes_total", dimensions: dimensions, factory: factory)
        retries = Counter(label: "streamstore_mirror_retries_total", dimensions: dimensions, factory: factory)
        lag = Gauge(label: "streamstore_mirror_lag_records", dimensions: dimensions, factory: factory)
    }
}
