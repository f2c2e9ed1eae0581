import CoreMetrics
import Logging

/// What a ``KafkaMirror`` copies, between the store and which cluster, and how.
public struct KafkaMirrorConfiguration: Sendable {
    /// Which way records flow.
    public enum Direction: String, Sendable {
        /// From the store's topics into the cluster's (`stream-tool mirror --to`).
        case toCluster = "to"
        /// From the cluster's topics into the store's (`stream-tool mirror --from`).
        case fromCluster = "from"
    }

    /// Which way records flow.
    public var direction: Direction
    /// `HOST:PORT` of one or more brokers; the first that answers tells where the rest are.
    public var bootstrapServers: [String]
    /// The topics to copy; empty: every topic of the source side (on a cluster, those whose
    /// names do not start with `__`).
    public var topics: [String]
    /// Names the mirror: its progress is the consumer group `mirror-<name>` on the source side
    /// (the store's groups for ``Direction/toCluster``, the cluster's for
    /// ``Direction/fromCluster``), and its state file `__kafka/mirror-<direction>-<name>.json`
    /// in the store. Letters, digits, `.`, `_`, `-`.
    public var name: String
    /// Keep copying as the source grows (woken by appends, or by a long-polling fetch) until the
    /// task running ``KafkaMirror/run()`` is cancelled; otherwise stop at the source's log ends
    /// as they were when the run began.
    public var follow: Bool
    /// Largest batch sent in one produce request per partition (below a Kafka broker's default
    /// `message.max.bytes` of 1 MB), and the per-partition size asked of a fetch.
    public var maxBatchBytes: Int
    /// Produce requests in flight per broker (at most 5: beyond it Kafka does not keep an
    /// idempotent producer's batches in order).
    public var maxInFlightRequests: Int
    /// First wait after a failure that may pass (a lost connection, a leader change); doubled
    /// after each failure in a row up to ``maxRetryBackoffMilliseconds``.
    public var retryBackoffMilliseconds: Int64
    /// The longest wait between retries.
    public var maxRetryBackoffMilliseconds: Int64
    /// Failures in a row after which the mirror gives up with the last error (nil: never, for
    /// a mirror that should outlive cluster outages).
    public var maxConsecutiveFailures: Int?
    /// How often progress is committed to the `mirror-<name>` group while records flow.
    public var commitIntervalMilliseconds: Int64
    /// How long a connection to a broker may take to open.
    public var connectTimeoutMilliseconds: Int64
    /// How long a request may wait for its answer before its connection is given up.
    public var requestTimeoutMilliseconds: Int64
    /// TLS to the cluster; nil: plaintext.
    public var tls: KafkaClientTLSConfiguration?
    /// A SASL login on every connection to the cluster; nil: none.
    public var sasl: KafkaClientSASLConfiguration?
    /// Where the mirror logs retries and failures.
    public var logger: Logger
    /// Where the mirror's metrics go; nil: the globally bootstrapped factory.
    public var metricsFactory: (any MetricsFactory)?

    /// A configuration with the given settings; every default is the one `stream-tool mirror` uses.
    public init(
        direction: Direction, bootstrapServers: [String], topics: [String] = [], name: String = "default", follow: Bool = false,
        maxBatchBytes: Int = 512 * 1024, maxInFlightRequests: Int = 5, retryBackoffMilliseconds: Int64 = 100,
        maxRetryBackoffMilliseconds: Int64 = 5_000, maxConsecutiveFailures: Int? = 20, commitIntervalMilliseconds: Int64 = 200,
        connectTimeoutMilliseconds: Int64 = 10_000, requestTimeoutMilliseconds: Int64 = 30_000,
        tls: KafkaClientTLSConfiguration? = nil, sasl: KafkaClientSASLConfiguration? = nil,
        logger: Logger = Logger(label: "streamstore.mirror", factory: { _ in SwiftLogNoOpLogHandler() }),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.direction = direction
        self.bootstrapServers = bootstrapServers
        self.topics = topics
        self.name = name
        self.follow = follow
        self.maxBatchBytes = maxBatchBytes
        self.maxInFlightRequests = maxInFlightRequests
        self.retryBackoffMilliseconds = retryBackoffMilliseconds
        self.maxRetryBackoffMilliseconds = maxRetryBackoffMilliseconds
        self.maxConsecutiveFailures = maxConsecutiveFailures
        self.commitIntervalMilliseconds = commitIntervalMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
        self.tls = tls
        self.sasl = sasl
        self.logger = logger
        self.metricsFactory = metricsFactory
    }

    /// The consumer group that shows the mirror's progress.
    public var groupName: String { "mirror-\(name)" }
}

/// How far a running mirror got: records and bytes copied (acknowledged by the other side)
/// since the run began, and how many records it is behind.
public struct KafkaMirrorProgress: Sendable, Equatable {
    /// Records copied and acknowledged by the other side.
    public var records: Int64 = 0
    /// Keys, values and headers of the records copied.
    public var bytes: Int64 = 0
    /// Records on the source side not yet copied, as of the last look at its log ends.
    public var lagRecords: Int64 = 0
    /// Failures that were retried.
    public var retries: Int = 0
    /// Time since the run began.
    public var elapsedSeconds: Double = 0

    /// No progress yet.
    public init() {}
}
