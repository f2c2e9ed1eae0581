/// SASL authentication of the mirror's client to a cluster: a mechanism, a user and its
/// password. SCRAM never sends the password; PLAIN sends it in the clear and is therefore
/// allowed only together with TLS (``KafkaClientTLSConfiguration``).
public struct KafkaClientSASLConfiguration: Sendable, Equatable {
    /// How to log in.
    public var mechanism: KafkaSASLMechanism
    /// The user name, as the cluster knows it.
    public var user: String
    /// The user's password (UTF-8, as Kafka takes it).
    public var password: String

    /// A login as `user` with `password` through `mechanism`.
    public init(mechanism: KafkaSASLMechanism, user: String, password: String) {
        self.mechanism = mechanism
        self.user = user
        self.password = password
    }
}

extension KafkaClientSASLConfiguration: CustomStringConvertible {
    /// The mechanism and the user, never the password (configurations end up in logs).
    public var description: String { "\(mechanism.rawValue) as \(user)" }
}
