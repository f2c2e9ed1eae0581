import Logging
import StreamStore

/// How a ``KafkaServer`` listens and behaves.
public struct KafkaServerConfiguration: Sendable {
    /// The address to listen on. Loopback by default; any other address needs both ``tls``
    /// and ``sasl``, or ``allowsPlaintextOnNetwork``.
    public var host: String
    /// The port (9092, Kafka's, by default; 0 picks a free one, see ``KafkaServer/port``).
    public var port: Int
    /// Where clients are told to connect (Metadata, FindCoordinator); nil: `host` and the bound port.
    public var advertisedHost: String?
    /// The port clients are told to connect to; nil: the bound port.
    public var advertisedPort: Int?
    /// This broker's node id in Metadata answers.
    public var nodeId: Int32
    /// The cluster id in Metadata answers.
    public var clusterId: String
    /// Let clients create topics by asking for them (Kafka's `auto.create.topics.enable`).
    public var autoCreateTopics: Bool
    /// The settings of topics created through the Kafka protocol; CreateTopics' partition count
    /// and the configs it maps (docs/KAFKA.md) override them.
    public var defaultTopicConfig: TopicConfig
    /// TLS for every connection; nil: plaintext.
    public var tls: KafkaTLSConfiguration?
    /// SASL authentication for every connection; nil: anyone who connects is served.
    public var sasl: KafkaSASLConfiguration?
    /// Serve on a non-loopback address without TLS or without SASL. Off by default; the CLI
    /// names it `--insecure-allow-plaintext-on-network`.
    public var allowsPlaintextOnNetwork: Bool
    /// How long a group waits for more members after the first joins an empty group (Kafka's
    /// `group.initial.rebalance.delay.ms`, 3000 there).
    public var initialRebalanceDelayMilliseconds: Int64
    /// Session timeouts a group member may ask for.
    public var sessionTimeoutRangeMilliseconds: ClosedRange<Int32>
    /// The largest request frame accepted; a longer length prefix closes that connection.
    public var maxRequestBytes: Int
    /// Connections open at once; one more is closed as soon as it is accepted, with a log line.
    public var maxConnections: Int
    /// A connection that sends nothing for this long is closed.
    public var idleTimeoutMilliseconds: Int64
    /// Where the server logs connections, refused frames and shutdown.
    public var logger: Logger

    /// A configuration with Kafka's defaults where they apply and the limits of `Limits`.
    public init(
        host: String = "127.0.0.1", port: Int = 9092, advertisedHost: String? = nil, advertisedPort: Int? = nil, nodeId: Int32 = 0,
        clusterId: String = "streamstore", autoCreateTopics: Bool = true, defaultTopicConfig: TopicConfig = TopicConfig(),
        tls: KafkaTLSConfiguration? = nil, sasl: KafkaSASLConfiguration? = nil,
        allowsPlaintextOnNetwork: Bool = false, initialRebalanceDelayMilliseconds: Int64 = 1000,
        sessionTimeoutRangeMilliseconds: ClosedRange<Int32> = 1000...1_800_000,
        maxRequestBytes: Int = Limits.kafkaMaxRequestBytes, maxConnections: Int = Limits.kafkaMaxConnections,
        idleTimeoutMilliseconds: Int64 = Limits.kafkaIdleMilliseconds,
        logger: Logger = Logger(label: "streamstore.kafka", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.host = host
        self.port = port
        self.advertisedHost = advertisedHost
        self.advertisedPort = advertisedPort
        self.nodeId = nodeId
        self.clusterId = clusterId
        self.autoCreateTopics = autoCreateTopics
        self.defaultTopicConfig = defaultTopicConfig
        self.tls = tls
        self.sasl = sasl
        self.allowsPlaintextOnNetwork = allowsPlaintextOnNetwork
        self.initialRebalanceDelayMilliseconds = initialRebalanceDelayMilliseconds
        self.sessionTimeoutRangeMilliseconds = sessionTimeoutRangeMilliseconds
        self.maxRequestBytes = maxRequestBytes
        self.maxConnections = maxConnections
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.logger = logger
    }

    /// The SASL mechanisms offered: those configured, less PLAIN without TLS (it would send
    /// passwords readable on the wire).
    public var offeredSASLMechanisms: [KafkaSASLMechanism] {
        guard let sasl else { return [] }
        return sasl.mechanisms.filter { $0 != .plain || tls != nil }
    }

    /// What a non-loopback listener lacks to be safe on a network: "TLS", "SASL", both, or
    /// nothing (empty).
    public var missingNetworkProtection: [String] {
        (tls == nil ? ["TLS"] : []) + (offeredSASLMechanisms.isEmpty ? ["SASL"] : [])
    }

    /// True for addresses only this machine can reach.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
