/// The SASL mechanisms the Kafka server offers (docs/KAFKA.md, "Security").
public enum KafkaSASLMechanism: String, Sendable, CaseIterable, Hashable {
    /// SCRAM with SHA-256 (RFC 5802, RFC 7677): the password never crosses the wire.
    case scramSHA256 = "SCRAM-SHA-256"
    /// SCRAM with SHA-512, as Kafka names it.
    case scramSHA512 = "SCRAM-SHA-512"
    /// The password in the clear (RFC 4616), checked against the user's stored SCRAM
    /// credential; offered only over TLS.
    case plain = "PLAIN"

    /// The SCRAM hash of a SCRAM mechanism; nil for PLAIN.
    var scram: ScramAlgorithm? {
        switch self {
        case .scramSHA256: return .sha256
        case .scramSHA512: return .sha512
        case .plain: return nil
        }
    }
}
