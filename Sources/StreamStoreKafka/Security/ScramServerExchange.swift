#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StreamStoreFormat

/// The server's side of one SCRAM exchange (RFC 5802, section 5), two rounds:
///
/// ```
/// client-first  n,,n=alice,r=<client nonce>
/// server-first  r=<client nonce><server nonce>,s=<salt, base64>,i=<iterations>
/// client-final  c=biws,r=<both nonces>,p=<ClientProof, base64>
/// server-final  v=<ServerSignature, base64>
/// ```
///
/// The proof is checked against the stored credential: ClientKey = ClientProof XOR
/// HMAC(StoredKey, AuthMessage) must hash to StoredKey. A user that does not exist gets a
/// decoy salt (the same every time for that name) and fails at the proof, as a wrong
/// password does, so the exchange does not reveal which users exist. No channel binding.
struct ScramServerExchange {
    /// What the server sends back after a client message.
    enum Step: Equatable {
        /// The server-first message; the client's final message comes next.
        case challenge([UInt8])
        /// The server-final message; `user` is authenticated.
        case success(user: String, serverFinal: [UInt8])
    }

    private enum State {
        case awaitingClientFirst
        case awaitingClientFinal(user: String, credential: ScramCredential?, gs2Header: String, nonce: String, authMessagePrefix: String)
        case finished
    }

    let algorithm: ScramAlgorithm
    private let credentials: @Sendable (String) -> ScramCredential?
    private let makeServerNonce: () -> String
    private var state = State.awaitingClientFirst

    /// `credentials` finds a user's stored credential for this algorithm; `serverNonce` is
    /// random except in tests of the RFC's example.
    init(
        algorithm: ScramAlgorithm, credentials: @escaping @Sendable (String) -> ScramCredential?,
        serverNonce: @escaping () -> String = { ScramCredential.randomBytes(24).base64 }
    ) {
        self.algorithm = algorithm
        self.credentials = credentials
        self.makeServerNonce = serverNonce
    }

    private var mechanism: KafkaSASLMechanism { algorithm.mechanism }

    /// Takes the client's next message and answers it, or says why the exchange failed.
    mutating func receive(_ message: [UInt8]) throws(SaslFailure) -> Step {
        guard let text = String(validating: message, as: UTF8.self) else { throw .malformed(mechanism, "the message is not UTF-8") }
        switch state {
        case .awaitingClientFirst:
            return try clientFirst(text)
        case .awaitingClientFinal(let user, let credential, let gs2Header, let nonce, let prefix):
            state = .finished
            return try clientFinal(text, user: user, credential: credential, gs2Header: gs2Header, nonce: nonce, authMessagePrefix: prefix)
        case .finished:
            throw .malformed(mechanism, "the exchange is already over")
        }
    }

    private mutating func clientFirst(_ text: String) throws(SaslFailure) -> Step {
        // gs2-header: a channel-binding flag, then an optional authorization id.
        let parts = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed(mechanism, "the client-first message has no GS2 header") }
        switch parts[0] {
        case "n", "y": break
        default:
            if parts[0].hasPrefix("p=") { throw .malformed(mechanism, "channel binding is not supported") }
            throw .malformed(mechanism, "unknown channel-binding flag \(parts[0])")
        }
        let bare = String(parts[2])
        let attributes = try Self.attributes(bare, mechanism: mechanism)
        guard attributes.first?.key == "n", let encodedUser = attributes.first?.value else {
            throw .malformed(mechanism, "the client-first message does not start with n=")
        }
        guard attributes.count >= 2, attributes[1].key == "r", !attributes[1].value.isEmpty else {
            throw .malformed(mechanism, "the client-first message has no nonce")
        }
        if let unsupported = attributes.dropFirst(2).first(where: { $0.key == "m" || $0.key == "tokenauth" }) {
            throw .malformed(mechanism, "the extension \(unsupported.key) is not supported")
        }
        let user = try Self.decodeSaslName(encodedUser, mechanism: mechanism)
        if !parts[1].isEmpty {
            guard parts[1].hasPrefix("a="), try Self.decodeSaslName(String(parts[1].dropFirst(2)), mechanism: mechanism) == user else {
                throw .malformed(mechanism, "an authorization id other than the user name is not supported")
            }
        }
        let clientNonce = attributes[1].value
        guard clientNonce.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ",") }) else {
            throw .malformed(mechanism, "the nonce has characters outside printable ASCII")
        }
        let credential = credentials(user)
        let salt = credential?.salt ?? decoySalt(for: user)
        let iterations = credential?.iterations ?? Limits.kafkaScramMinIterations
        let nonce = clientNonce + makeServerNonce()
        let serverFirst = "r=\(nonce),s=\(salt.base64),i=\(iterations)"
        state = .awaitingClientFinal(
            user: user, credential: credential, gs2Header: "\(parts[0]),\(parts[1]),", nonce: nonce,
            authMessagePrefix: bare + "," + serverFirst)
        return .challenge(Array(serverFirst.utf8))
    }

    private func clientFinal(
        _ text: String, user: String, credential: ScramCredential?, gs2Header: String, nonce: String, authMessagePrefix: String
    ) throws(SaslFailure) -> Step {
        guard let proofStart = text.ranges(of: ",p=").last else {
            throw .malformed(mechanism, "the client-final message has no proof")
        }
        let withoutProof = String(text[..<proofStart.lowerBound])
        let attributes = try Self.attributes(withoutProof, mechanism: mechanism)
        guard attributes.count >= 2, attributes[0].key == "c", attributes[1].key == "r" else {
            throw .malformed(mechanism, "the client-final message does not start with c= and r=")
        }
        guard attributes[0].value == Array(gs2Header.utf8).base64 else {
            throw .malformed(mechanism, "the channel binding does not repeat the GS2 header")
        }
        // Kafka's broker accepts a final nonce that ends with the agreed one, and librdkafka
        // relies on it: it sends its own nonce again in front of the server's whole nonce. The
        // server's part still has to be there, which is what makes the proof fresh.
        guard attributes[1].value.hasSuffix(nonce) else { throw .malformed(mechanism, "the nonce is not the one this exchange agreed") }
        guard let proof = [UInt8](base64: String(text[proofStart.upperBound...])), proof.count == algorithm.outputBytes else {
            throw .malformed(mechanism, "the proof is not \(algorithm.outputBytes) bytes of base64")
        }
        guard let credential else {
            throw .invalidCredentials(mechanism, detail: "unknown user \(user)")
        }
        let authMessage = Array((authMessagePrefix + "," + withoutProof).utf8)
        let clientSignature = algorithm.hmac(key: credential.storedKey, authMessage)
        let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
        guard ScramAlgorithm.constantTimeEqual(algorithm.hash(clientKey), credential.storedKey) else {
            throw .invalidCredentials(mechanism, detail: "wrong password for user \(user)")
        }
        let serverSignature = algorithm.hmac(key: credential.serverKey, authMessage)
        return .success(user: user, serverFinal: Array("v=\(serverSignature.base64)".utf8))
    }

    /// The salt shown for a user that does not exist: derived from the name and a secret
    /// drawn once per process, so asking twice shows the same salt, as for a real user.
    private func decoySalt(for user: String) -> [UInt8] {
        Array(algorithm.hmac(key: Self.decoySecret, Array(user.utf8)).prefix(ScramCredential.saltBytes))
    }

    private static let decoySecret = ScramCredential.randomBytes(32)

    /// `k=v,k=v,...` into ordered pairs; each attribute is one letter (or a named extension).
    static func attributes(_ text: String, mechanism: KafkaSASLMechanism) throws(SaslFailure) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let equals = part.firstIndex(of: "="), equals != part.startIndex else {
                throw .malformed(mechanism, "\(part) is not an attribute (k=value)")
            }
            result.append((String(part[..<equals]), String(part[part.index(after: equals)...])))
        }
        return result
    }

    /// A saslname: `=2C` stands for `,` and `=3D` for `=`; any other `=` is an error.
    static func decodeSaslName(_ text: String, mechanism: KafkaSASLMechanism) throws(SaslFailure) -> String {
        var result = ""
        var rest = Substring(text)
        while let equals = rest.firstIndex(of: "=") {
            result += rest[..<equals]
            let code = rest[rest.index(after: equals)...].prefix(2)
            switch code {
            case "2C": result += ","
            case "3D": result += "="
            default: throw .malformed(mechanism, "the user name has a bad escape (only =2C and =3D are allowed)")
            }
            rest = rest[rest.index(equals, offsetBy: 3)...]
        }
        result += rest
        guard !result.isEmpty else { throw .malformed(mechanism, "the user name is empty") }
        return result
    }
}

extension Array where Element == UInt8 {
    /// Standard base64 with padding, as SCRAM and the users file write it.
    var base64: String { Data(self).base64EncodedString() }

    /// Decodes standard base64; nil when it is not.
    init?(base64 text: String) {
        guard let data = Data(base64Encoded: text) else { return nil }
        self = Array(data)
    }
}
