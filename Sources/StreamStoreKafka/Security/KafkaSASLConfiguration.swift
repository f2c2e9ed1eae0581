/// SASL authentication for the Kafka server: every connection must authenticate as a user
/// of the users file before any request other than ApiVersions, SaslHandshake and
/// SaslAuthenticate is served.
public struct KafkaSASLConfiguration: Sendable, Equatable {
    /// The users file (salted SCRAM credentials, mode 0600; docs/KAFKA.md). The server reads
    /// it again when it changes, so added and removed users take effect for new connections.
    public var usersFile: String
    /// The mechanisms offered. PLAIN is offered only when the server also has TLS.
    public var mechanisms: [KafkaSASLMechanism]

    /// SASL with the users of `usersFile`, offering `mechanisms`.
    public init(usersFile: String, mechanisms: [KafkaSASLMechanism] = KafkaSASLMechanism.allCases) {
        self.usersFile = usersFile
        self.mechanisms = mechanisms
    }
}
