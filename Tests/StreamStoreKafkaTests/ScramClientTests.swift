import Testing

@_spi(Fuzzing) @testable import StreamStoreKafka

/// SCRAM, client side (the mirror's login): the RFC 7677 example byte for byte, logins against
/// this package's server exchange, and a server that is not who it claims.
struct ScramClientTests {
    static func client(_ algorithm: ScramAlgorithm, user: String = "user", password: String = "pencil") -> ScramClientExchange {
        ScramClientExchange(algorithm: algorithm, user: user, password: password, clientNonce: ScramTests.clientNonce)
    }

    @Test func rfc7677ExampleProducesTheRFCsProofAndAcceptsItsSignature() throws {
        var client = Self.client(.sha256)
        #expect(String(decoding: client.clientFirst(), as: UTF8.self) == "n,,n=user,r=\(ScramTests.clientNonce)")
        let serverFirst = Array("r=\(ScramTests.nonce),s=\(ScramTests.salt),i=4096".utf8)
        let final = try client.clientFinal(serverFirst: serverFirst)
        #expect(String(decoding: final, as: UTF8.self) == "c=biws,r=\(ScramTests.nonce),p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        try client.verify(serverFinal: Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8))
    }

    @Test(arguments: [ScramAlgorithm.sha256, .sha512], ["alice", "a,b=c"])
    func logsInToTheServerExchange(_ algorithm: ScramAlgorithm, user: String) throws {
        let credential = ScramCredential.derive(password: "correct horse", algorithm: algorithm, iterations: 4096)
        var server = ScramServerExchange(algorithm: algorithm, credentials: { $0 == user ? credential : nil })
        var client = ScramClientExchange(algorithm: algorithm, user: user, password: "correct horse")
        guard case .challenge(let serverFirst) = try server.receive(client.clientFirst()) else {
            Issue.record("the server did not answer the client-first message with a challenge")
            return
        }
        let step = try server.receive(client.clientFinal(serverFirst: serverFirst))
        guard case .success(let loggedIn, let serverFinal) = step else {
            Issue.record("the server refused a correct login: \(step)")
            return
        }
        #expect(loggedIn == user)
        try client.verify(serverFinal: serverFinal)
    }

    @Test func aWrongPasswordIsRefusedByTheServer() throws {
        let credential = ScramCredential.derive(password: "right", algorithm: .sha256, iterations: 4096)
        var server = ScramServerExchange(algorithm: .sha256, credentials: { _ in credential })
        var client = ScramClientExchange(algorithm: .sha256, user: "alice", password: "wrong")
        guard case .challenge(let serverFirst) = try server.receive(client.clientFirst()) else {
            Issue.record("no challenge")
            return
        }
        let final = try client.clientFinal(serverFirst: serverFirst)
        #expect(throws: SaslFailure.invalidCredentials(.scramSHA256, detail: "wrong password for user alice")) { try server.receive(final) }
    }

    @Test func aServerWithoutTheCredentialIsCaughtByItsSignature() throws {
        var client = Self.client(.sha256)
        _ = client.clientFirst()
        _ = try client.clientFinal(serverFirst: Array("r=\(ScramTests.nonce),s=\(ScramTests.salt),i=4096".utf8))
        // The signature of a server that holds another password's credential.
        let failure = #expect(throws: SaslFailure.self) { try client.verify(serverFinal: Array("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".utf8)) }
        #expect(failure?.detail.contains("signature is wrong") == true)
        let refusal = #expect(throws: SaslFailure.self) { try client.verify(serverFinal: Array("e=invalid-proof".utf8)) }
        #expect(refusal?.detail.contains("invalid-proof") == true)
    }

    @Test(arguments: [
        ("r=someoneelse,s=\(ScramTests.salt),i=4096", "does not extend"),
        ("r=\(ScramTests.clientNonce),s=\(ScramTests.salt),i=4096", "does not extend"),
        ("r=\(ScramTests.nonce),s=!!,i=4096", "salt"),
        ("r=\(ScramTests.nonce),s=\(ScramTests.salt),i=0", "iteration count"),
        ("r=\(ScramTests.nonce),s=\(ScramTests.salt),i=99999999", "iteration count"),
        ("s=\(ScramTests.salt),r=\(ScramTests.nonce),i=4096", "r=...,s=...,i=..."),
        ("e=unknown-user", "refused the login"),
    ])
    func badServerFirstMessagesAreRefused(_ message: String, phrase: String) {
        var client = Self.client(.sha256)
        _ = client.clientFirst()
        let failure = #expect(throws: SaslFailure.self) { try client.clientFinal(serverFirst: Array(message.utf8)) }
        #expect(failure?.detail.contains(phrase) == true, "\(failure?.detail ?? "no failure")")
    }

    @Test func userNamesAreEscapedAsSaslNames() throws {
        #expect(ScramClientExchange.encodeSaslName("a,b=c") == "a=2Cb=3Dc")
        #expect(try ScramServerExchange.decodeSaslName(ScramClientExchange.encodeSaslName("x=,y"), mechanism: .scramSHA256) == "x=,y")
    }
}
