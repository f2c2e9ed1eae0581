/// Why a request of the Kafka client failed. ``isRetriable`` tells the mirror whether to try
/// again (after a backoff, with fresh metadata) or to stop with the error.
public struct KafkaClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in a form code can switch on.
    public enum Code: Sendable, Equatable {
        /// No bootstrap address answered, or a connection broke or timed out.
        case connection
        /// The broker answered with a Kafka error code (its number is in ``kafkaErrorCode``).
        case broker
        /// The broker does not serve a version of an API that this client speaks.
        case unsupportedVersion
        /// A response could not be decoded, or answered a request it was not asked.
        case protocolViolation
        /// A topic on the cluster has a different partition count than the store's.
        case partitionCountMismatch
        /// A partition holds records that the mirror did not write (or lost some it did).
        case targetMismatch
        /// A bad setting: an address that is not HOST:PORT, an empty bootstrap list...
        case invalidConfiguration
        /// The TLS handshake failed: the broker's certificate is not trusted or does not name
        /// the host, or the broker does not speak TLS.
        case tls
        /// The SASL login failed: a wrong user or password, a mechanism the broker does not
        /// offer, or a broker whose SCRAM signature is wrong.
        case authentication
    }

    /// What went wrong.
    public let code: Code
    /// Kafka's error code, for ``Code/broker``.
    public let kafkaErrorCode: Int16?
    /// What went wrong, for a person: what was asked of which broker, and its answer.
    public let message: String

    /// An error with `code` and `message`; `kafkaErrorCode` for a broker's answer.
    public init(_ code: Code, _ message: String, kafkaErrorCode: Int16? = nil) {
        self.code = code
        self.message = message
        self.kafkaErrorCode = kafkaErrorCode
    }

    /// A broker's error code as an error, naming what was asked.
    static func broker(_ errorCode: Int16, _ what: String) -> KafkaClientError {
        KafkaClientError(.broker, "\(what): the broker answered \(KafkaClientError.name(of: errorCode)) (\(errorCode)).", kafkaErrorCode: errorCode)
    }

    /// True for failures that a later attempt may not meet: lost connections, leaders that
    /// moved or are being elected, coordinators loading, timeouts, a producer the broker forgot.
    public var isRetriable: Bool {
        switch code {
        case .connection: return true
        case .broker: return kafkaErrorCode.map(Self.retriableCodes.contains) ?? false
        case .unsupportedVersion, .protocolViolation, .partitionCountMismatch, .targetMismatch, .invalidConfiguration, .tls, .authentication: return false
        }
    }

    /// Kafka's retriable error codes that a mirror meets: UNKNOWN_TOPIC_OR_PARTITION (3, just
    /// after a topic is created), LEADER_NOT_AVAILABLE (5), NOT_LEADER_OR_FOLLOWER (6),
    /// REQUEST_TIMED_OUT (7), NETWORK_EXCEPTION (13), COORDINATOR_LOAD_IN_PROGRESS (14),
    /// COORDINATOR_NOT_AVAILABLE (15), NOT_COORDINATOR (16), NOT_ENOUGH_REPLICAS (19, 20),
    /// KAFKA_STORAGE_ERROR (56), FENCED_LEADER_EPOCH (74), UNKNOWN_LEADER_EPOCH (75),
    /// OFFSET_NOT_AVAILABLE (78), PREFERRED_LEADER_NOT_AVAILABLE (80), THROTTLING_QUOTA (89);
    /// and DUPLICATE_SEQUENCE_NUMBER (46): a produce found records of its batch on the cluster
    /// already (a killed run's request landed late), and the next session's look at the log
    /// ends starts after them.
    static let retriableCodes: Set<Int16> = [3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 46, 56, 74, 75, 78, 80, 89]

    /// Kafka's names of the error codes a mirror meets, for messages.
    static func name(of errorCode: Int16) -> String {
        switch errorCode {
        case -1: return "UNKNOWN_SERVER_ERROR"
        case 1: return "OFFSET_OUT_OF_RANGE"
        case 2: return "CORRUPT_MESSAGE"
        case 3: return "UNKNOWN_TOPIC_OR_PARTITION"
        case 5: return "LEADER_NOT_AVAILABLE"
        case 6: return "NOT_LEADER_OR_FOLLOWER"
        case 7: return "REQUEST_TIMED_OUT"
        case 10: return "MESSAGE_TOO_LARGE"
        case 13: return "NETWORK_EXCEPTION"
        case 14: return "COORDINATOR_LOAD_IN_PROGRESS"
        case 15: return "COORDINATOR_NOT_AVAILABLE"
        case 16: return "NOT_COORDINATOR"
        case 17: return "INVALID_TOPIC_EXCEPTION"
        case 19: return "NOT_ENOUGH_REPLICAS"
        case 20: return "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
        case 22: return "ILLEGAL_GENERATION"
        case 25: return "UNKNOWN_MEMBER_ID"
        case 29: return "TOPIC_AUTHORIZATION_FAILED"
        case 30: return "GROUP_AUTHORIZATION_FAILED"
        case 31: return "CLUSTER_AUTHORIZATION_FAILED"
        case 32: return "INVALID_TIMESTAMP"
        case 35: return "UNSUPPORTED_VERSION"
        case 36: return "TOPIC_ALREADY_EXISTS"
        case 37: return "INVALID_PARTITIONS"
        case 38: return "INVALID_REPLICATION_FACTOR"
        case 45: return "OUT_OF_ORDER_SEQUENCE_NUMBER"
        case 46: return "DUPLICATE_SEQUENCE_NUMBER"
        case 47: return "INVALID_PRODUCER_EPOCH"
        case 56: return "KAFKA_STORAGE_ERROR"
        case 59: return "UNKNOWN_PRODUCER_ID"
        case 76: return "UNSUPPORTED_COMPRESSION_TYPE"
        case 87: return "INVALID_RECORD"
        default: return "error"
        }
    }

    /// The ``message``.
    public var description: String { message }
}
