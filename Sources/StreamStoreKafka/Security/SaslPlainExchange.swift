import StreamStoreFormat

/// PLAIN (RFC 4616): one message, `[authzid] NUL authcid NUL password`, checked against the
/// user's stored SCRAM credential by deriving it again from the password. The users file
/// therefore never holds a password, for PLAIN either. The server offers PLAIN only over TLS,
/// where the password is not readable on the wire.
struct SaslPlainExchange {
    private let credentials: @Sendable (String) -> ScramCredential?

    /// `credentials` finds the stored credential a PLAIN password is checked against.
    init(credentials: @escaping @Sendable (String) -> ScramCredential?) {
        self.credentials = credentials
    }

    /// The authenticated user, or why not.
    func receive(_ message: [UInt8]) throws(SaslFailure) -> String {
        let fields = message.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else { throw .malformed(.plain, "expected [authzid] NUL user NUL password") }
        guard let authorizationId = String(validating: fields[0], as: UTF8.self),
            let user = String(validating: fields[1], as: UTF8.self),
            let password = String(validating: fields[2], as: UTF8.self)
        else { throw .malformed(.plain, "the message is not UTF-8") }
        guard !user.isEmpty, !password.isEmpty else { throw .malformed(.plain, "the user name or the password is empty") }
        guard authorizationId.isEmpty || authorizationId == user else {
            throw .malformed(.plain, "an authorization id other than the user name is not supported")
        }
        // An unknown user costs the same derivation as a known one, so timing does not tell them apart.
        let stored = credentials(user)
        let matches = (stored ?? Self.decoy).verifies(password: password)
        guard stored != nil else { throw .invalidCredentials(.plain, detail: "unknown user \(user)") }
        guard matches else { throw .invalidCredentials(.plain, detail: "wrong password for user \(user)") }
        return user
    }

    private static let decoy = ScramCredential.derive(
        password: ScramCredential.randomBytes(16).base64, algorithm: .sha512, iterations: Limits.kafkaScramMinIterations)
}
