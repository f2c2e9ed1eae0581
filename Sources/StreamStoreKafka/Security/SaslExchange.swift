/// The exchange of the mechanism a client chose in its SaslHandshake.
enum SaslExchange {
    case scram(ScramServerExchange)
    case plain(SaslPlainExchange)

    /// Starts an exchange of `mechanism` against the users `users()` returns at each lookup.
    init(mechanism: KafkaSASLMechanism, users: @escaping @Sendable () -> KafkaUsersFile) {
        if let algorithm = mechanism.scram {
            self = .scram(ScramServerExchange(algorithm: algorithm, credentials: { users().credential(user: $0, algorithm: algorithm) }))
        } else {
            self = .plain(SaslPlainExchange(credentials: { users().plainCredential(user: $0) }))
        }
    }

    var mechanism: KafkaSASLMechanism {
        switch self {
        case .scram(let exchange): return exchange.algorithm.mechanism
        case .plain: return .plain
        }
    }

    /// Answers the client's token: the bytes to send back, and the user once authenticated.
    mutating func receive(_ token: [UInt8]) throws(SaslFailure) -> (response: [UInt8], user: String?) {
        switch self {
        case .scram(var exchange):
            defer { self = .scram(exchange) }
            switch try exchange.receive(token) {
            case .challenge(let bytes): return (bytes, nil)
            case .success(let user, let serverFinal): return (serverFinal, user)
            }
        case .plain(let exchange):
            return ([], try exchange.receive(token))
        }
    }
}
