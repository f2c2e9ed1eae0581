import StreamStoreFormat

/// The client's side of one SCRAM exchange (RFC 5802, section 5), the mirror of
/// ``ScramServerExchange``:
///
/// ```
/// client-first  n,,n=<user, escaped>,r=<client nonce>
/// server-first  r=<client nonce><server nonce>,s=<salt, base64>,i=<iterations>
/// client-final  c=biws,r=<both nonces>,p=<ClientProof, base64>
/// server-final  v=<ServerSignature, base64>
/// ```
///
/// The server's signature is checked too: a server that does not hold the user's credential
/// cannot make it, so a successful exchange also proves the server is the one the password was
/// registered with. No channel binding (`n,,`), as Kafka's brokers do.
struct ScramClientExchange {
    let algorithm: ScramAlgorithm
    private let user: String
    private let password: String
    private let clientNonce: String
    private var clientFirstBare = ""
    private var expectedServerSignature: [UInt8]?

    /// `clientNonce` is random except in tests of the RFC's example.
    init(algorithm: ScramAlgorithm, user: String, password: String, clientNonce: String = ScramCredential.randomBytes(24).base64) {
        self.algorithm = algorithm
        self.user = user
        self.password = password
        self.clientNonce = clientNonce
    }

    private var mechanism: KafkaSASLMechanism { algorithm.mechanism }

    /// The client-first message.
    mutating func clientFirst() -> [UInt8] {
        clientFirstBare = "n=\(Self.encodeSaslName(user)),r=\(clientNonce)"
        return Array("n,,\(clientFirstBare)".utf8)
    }

    /// Takes the server-first message and returns the client-final message with the proof.
    mutating func clientFinal(serverFirst message: [UInt8]) throws(SaslFailure) -> [UInt8] {
        guard let serverFirst = String(validating: message, as: UTF8.self) else {
            throw .malformed(mechanism, "the server-first message is not UTF-8")
        }
        let attributes = try ScramServerExchange.attributes(serverFirst, mechanism: mechanism)
        if let error = attributes.first(where: { $0.key == "e" }) {
            throw .invalidCredentials(mechanism, detail: "the server refused the login: \(error.value)")
        }
        guard attributes.count >= 3, attributes[0].key == "r", attributes[1].key == "s", attributes[2].key == "i" else {
            throw .malformed(mechanism, "the server-first message is not r=...,s=...,i=...")
        }
        let nonce = attributes[0].value
        // The server's nonce must extend ours: that makes the proof fresh for this exchange.
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else {
            throw .malformed(mechanism, "the server's nonce does not extend the client's")
        }
        guard let salt = [UInt8](base64: attributes[1].value), !salt.isEmpty else {
            throw .malformed(mechanism, "the salt is not base64")
        }
        guard let iterations = Int(attributes[2].value), iterations >= 1, iterations <= Limits.kafkaScramMaxIterations else {
            throw .malformed(mechanism, "the iteration count \(attributes[2].value) is not between 1 and \(Limits.kafkaScramMaxIterations)")
        }
        let salted = algorithm.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations)
        let clientKey = algorithm.hmac(key: salted, Array("Client Key".utf8))
        let storedKey = algorithm.hash(clientKey)
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = algorithm.hmac(key: storedKey, authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = algorithm.hmac(key: salted, Array("Server Key".utf8))
        expectedServerSignature = algorithm.hmac(key: serverKey, authMessage)
        return Array("\(withoutProof),p=\(proof.base64)".utf8)
    }

    /// Checks the server-final message: the server's signature must be the one its credential
    /// for this password gives.
    func verify(serverFinal message: [UInt8]) throws(SaslFailure) {
        guard let expected = expectedServerSignature else { throw .malformed(mechanism, "no client-final message was sent yet") }
        guard let text = String(validating: message, as: UTF8.self) else { throw .malformed(mechanism, "the server-final message is not UTF-8") }
        if text.hasPrefix("e=") {
            throw .invalidCredentials(mechanism, detail: "the server refused the login: \(text.dropFirst(2))")
        }
        guard text.hasPrefix("v="), let signature = [UInt8](base64: String(text.dropFirst(2))) else {
            throw .malformed(mechanism, "the server-final message has no signature (v=)")
        }
        guard ScramAlgorithm.constantTimeEqual(signature, expected) else {
            throw .malformed(mechanism, "the server's signature is wrong: it does not hold this user's credential")
        }
    }

    /// A saslname: `,` becomes `=2C` and `=` becomes `=3D`.
    static func encodeSaslName(_ name: String) -> String {
        var result = ""
        for character in name {
            switch character {
            case ",": result += "=2C"
            case "=": result += "=3D"
            default: result.append(character)
            }
        }
        return result
    }
}
