/// Why a SASL exchange failed. `clientMessage` goes back to the client in the
/// SaslAuthenticate answer; it never tells whether the user exists or the password was wrong,
/// so it cannot be used to find user names. `detail` goes only to the server's log.
struct SaslFailure: Error, Equatable, Sendable {
    let clientMessage: String
    let detail: String

    /// The answer to a wrong user or password, whichever it was (Kafka's wording).
    static func invalidCredentials(_ mechanism: KafkaSASLMechanism, detail: String) -> SaslFailure {
        SaslFailure(
            clientMessage: "Authentication failed during authentication due to invalid credentials with SASL mechanism \(mechanism.rawValue)",
            detail: detail)
    }

    /// A message the mechanism cannot read; says what was wrong, since it reveals nothing.
    static func malformed(_ mechanism: KafkaSASLMechanism, _ what: String) -> SaslFailure {
        SaslFailure(clientMessage: "Invalid \(mechanism.rawValue) message: \(what)", detail: what)
    }
}
