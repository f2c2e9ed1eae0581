import Testing

@_spi(Fuzzing) @testable import StreamStoreKafka

/// SCRAM and PLAIN, server side: the RFC 7677 example exchange byte for byte, SHA-512 against
/// values computed by Python's hashlib and hmac, and every way a client message can be wrong.
struct ScramTests {
    /// RFC 7677, section 3: user "user", password "pencil".
    static let salt = "W22ZaJ0SNY7soEsUEjb6gQ=="
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static var nonce: String { clientNonce + serverNonce }

    static func credential(_ algorithm: ScramAlgorithm, password: String = "pencil") throws -> ScramCredential {
        ScramCredential(password: password, algorithm: algorithm, salt: try #require([UInt8](base64: salt)), iterations: 4096)
    }

    static func exchange(_ algorithm: ScramAlgorithm, users: [String: ScramCredential]) -> ScramServerExchange {
        ScramServerExchange(algorithm: algorithm, credentials: { users[$0] }, serverNonce: { serverNonce })
    }

    static func send(_ text: String, to exchange: inout ScramServerExchange) throws(SaslFailure) -> ScramServerExchange.Step {
        try exchange.receive(Array(text.utf8))
    }

    @Test func rfc7677ExampleIsAcceptedAndSignedAsTheRFCShows() throws {
        var exchange = Self.exchange(.sha256, users: ["user": try Self.credential(.sha256)])
        let first = try Self.send("n,,n=user,r=\(Self.clientNonce)", to: &exchange)
        #expect(first == .challenge(Array("r=\(Self.nonce),s=\(Self.salt),i=4096".utf8)))
        let final = try Self.send("c=biws,r=\(Self.nonce),p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", to: &exchange)
        #expect(final == .success(user: "user", serverFinal: Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)))
    }

    @Test func sha512ExchangeMatchesPythonsHashlib() throws {
        let credential = try Self.credential(.sha512)
        #expect(credential.storedKey.base64 == "6AAub3065EYRmyFpM2RNwqK+eGnrkYuEWbXn19LsEmBqzu8QaCXNc1FwpnX9NhH2hK/60dzj9DoO5DvVkOHbvg==")
        #expect(credential.serverKey.base64 == "jZHbYjC1aHh0/hKbxyBuGFjDrgjgKTT1esA7awWiKcRZ0o/0b1yWEebBeSVkkCFewf91nLDfKF24mvD5nmE6rA==")
        var exchange = Self.exchange(.sha512, users: ["user": credential])
        _ = try Self.send("n,,n=user,r=\(Self.clientNonce)", to: &exchange)
        let proof = "gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ=="
        let final = try Self.send("c=biws,r=\(Self.nonce),p=\(proof)", to: &exchange)
        let signature = "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw=="
        #expect(final == .success(user: "user", serverFinal: Array(signature.utf8)))
    }

    @Test func wrongPasswordFailsAtTheProofWithoutSayingWhy() throws {
        var exchange = Self.exchange(.sha256, users: ["user": try Self.credential(.sha256, password: "not pencil")])
        _ = try Self.send("n,,n=user,r=\(Self.clientNonce)", to: &exchange)
        let failure = try #require(throws: SaslFailure.self) {
            try Self.send("c=biws,r=\(Self.nonce),p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", to: &exchange)
        }
        #expect(failure.clientMessage.contains("invalid credentials"))
        #expect(failure.detail.contains("wrong password"))
    }

    @Test func unknownUserSeesAStableSaltAndFailsLikeAWrongPassword() throws {
        func serverFirst() throws -> ScramServerExchange.Step {
            var exchange = Self.exchange(.sha256, users: [:])
            return try Self.send("n,,n=nobody,r=\(Self.clientNonce)", to: &exchange)
        }
        let once = try serverFirst()
        #expect(once == (try serverFirst()))
        var exchange = Self.exchange(.sha256, users: [:])
        _ = try Self.send("n,,n=nobody,r=\(Self.clientNonce)", to: &exchange)
        let failure = try #require(throws: SaslFailure.self) {
            try Self.send("c=biws,r=\(Self.nonce),p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", to: &exchange)
        }
        let wrongPassword = SaslFailure.invalidCredentials(.scramSHA256, detail: "")
        #expect(failure.clientMessage == wrongPassword.clientMessage)
    }

    @Test(arguments: [
        "p=tls-unique,,n=user,r=abc",  // channel binding
        "x,,n=user,r=abc",  // unknown flag
        "n,,r=abc",  // no user
        "n,,n=user",  // no nonce
        "n,,n=us=41er,r=abc",  // bad escape
        "n,a=other,n=user,r=abc",  // authorization id of another user
        "n,,n=user,r=abc,m=mandatory",  // reserved extension
        "n,,n=user,r=a b",  // nonce with a space
        "n,,n=user,r=abc,tokenauth=true",  // delegation tokens
    ])
    func malformedClientFirstMessagesAreRefused(_ message: String) throws {
        var exchange = Self.exchange(.sha256, users: ["user": try Self.credential(.sha256)])
        #expect(throws: SaslFailure.self) { try Self.send(message, to: &exchange) }
    }

    @Test(arguments: [
        "c=biws,r=\(nonce)",  // no proof
        "c=eSws,r=\(nonce),p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",  // another GS2 header
        "c=biws,r=\(clientNonce),p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",  // the client's nonce only
        "c=biws,r=\(nonce),p=short",  // proof of the wrong size
    ])
    func malformedClientFinalMessagesAreRefused(_ message: String) throws {
        var exchange = Self.exchange(.sha256, users: ["user": try Self.credential(.sha256)])
        _ = try Self.send("n,,n=user,r=\(Self.clientNonce)", to: &exchange)
        #expect(throws: SaslFailure.self) { try Self.send(message, to: &exchange) }
        #expect(throws: SaslFailure.self, "the exchange is over after a failure") { try Self.send(message, to: &exchange) }
    }

    /// librdkafka repeats its nonce in front of the combined one in its final message; Kafka
    /// accepts a final nonce that ends with the agreed one, and so must we.
    @Test func librdkafkasRepeatedClientNonceIsAccepted() throws {
        let credential = try Self.credential(.sha256)
        var exchange = Self.exchange(.sha256, users: ["user": credential])
        let bare = "n=user,r=\(Self.clientNonce)"
        guard case .challenge(let serverFirst) = try Self.send("n,,\(bare)", to: &exchange) else {
            Issue.record("no challenge")
            return
        }
        var client = ScramTestClient(algorithm: .sha256, user: "user", password: "pencil")
        let withoutProof = "c=biws,r=\(Self.clientNonce)\(Self.nonce)"
        let proof = client.proof(clientFirstBare: bare, serverFirst: String(decoding: serverFirst, as: UTF8.self), clientFinalWithoutProof: withoutProof)
        guard case .success = try Self.send("\(withoutProof),p=\(proof)", to: &exchange) else {
            Issue.record("refused")
            return
        }
    }

    @Test func escapedUserNamesAreDecoded() throws {
        #expect(try ScramServerExchange.decodeSaslName("a=2Cb=3Dc", mechanism: .scramSHA256) == "a,b=c")
        var exchange = Self.exchange(.sha256, users: ["a,b": try Self.credential(.sha256)])
        guard case .challenge = try Self.send("n,a=a=2Cb,n=a=2Cb,r=\(Self.clientNonce)", to: &exchange) else {
            Issue.record("no challenge")
            return
        }
    }

    @Test func plainChecksThePasswordAgainstTheStoredScramCredential() throws {
        let stored = try Self.credential(.sha512)
        let plain = SaslPlainExchange(credentials: { $0 == "user" ? stored : nil })
        #expect(try plain.receive(Array("\0user\0pencil".utf8)) == "user")
        #expect(try plain.receive(Array("user\0user\0pencil".utf8)) == "user")
        #expect(throws: SaslFailure.self) { try plain.receive(Array("\0user\0pen".utf8)) }
        #expect(throws: SaslFailure.self) { try plain.receive(Array("\0nobody\0pencil".utf8)) }
        #expect(throws: SaslFailure.self) { try plain.receive(Array("admin\0user\0pencil".utf8)) }
        #expect(throws: SaslFailure.self) { try plain.receive(Array("user pencil".utf8)) }
    }

    @Test func constantTimeComparisonComparesEveryByte() {
        #expect(ScramAlgorithm.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!ScramAlgorithm.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!ScramAlgorithm.constantTimeEqual([9, 2, 3], [1, 2, 3]))
        #expect(!ScramAlgorithm.constantTimeEqual([1, 2], [1, 2, 3]))
    }
}
