import Foundation
import NIOCore
import Testing

@testable import StreamStore
@_spi(Fuzzing) @testable import StreamStoreKafka

/// A connection's authentication, frame by frame: what is served before a login, the SCRAM
/// and PLAIN exchanges through SaslHandshake and SaslAuthenticate, and the answers and closes
/// Kafka gives when a client gets it wrong.
@Suite(.timeLimit(.minutes(5))) struct KafkaSessionTests {
    final class Fixture {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-session-\(UUID().uuidString)").path
        let store: Store
        let broker: KafkaBroker
        let users: KafkaUserStore
        let limit = KafkaFrameLimit(authenticatedBytes: 100 << 20)
        var correlation: Int32 = 0

        init(tls: Bool = false) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            store = try Store.open(at: path + "/store")
            var file = KafkaUsersFile()
            try file.add(user: "alice", password: "wonderland", mechanisms: [.scramSHA256, .scramSHA512])
            try file.save(to: path + "/users.txt")
            var configuration = KafkaServerConfiguration(sasl: KafkaSASLConfiguration(usersFile: path + "/users.txt"))
            if tls { configuration.tls = KafkaTLSConfiguration(certificateChainFile: "unused", privateKeyFile: "unused") }
            broker = try KafkaBroker(store: store, configuration: configuration)
            users = try KafkaUserStore(path: path + "/users.txt", logger: configuration.logger)
        }

        deinit {
            try? store.close()
            try? FileManager.default.removeItem(atPath: path)
        }

        func session() -> KafkaSession {
            KafkaSession(broker: broker, users: users, mechanisms: broker.configuration.offeredSASLMechanisms, clientHost: "127.0.0.1", frameLimit: limit)
        }

        func frame<Request: KafkaMessage>(_ request: Request, version: Int16) -> ByteBuffer {
            correlation += 1
            var frame = ByteBuffer()
            RequestHeader(apiKey: Request.apiKey.rawValue, apiVersion: version, correlationId: correlation, clientId: "tests").encode(into: &frame)
            request.encode(into: &frame, version: version)
            return frame
        }

        /// Sends a request through `session`; the decoded answer, and whether the connection closes after it.
        func call<Request: KafkaMessage, Response: KafkaMessage>(
            _ session: KafkaSession, _ request: Request, version: Int16, as _: Response.Type
        ) async throws -> (response: Response, closes: Bool) {
            let outcome = try await session.handle(frame(request, version: version))
            var bytes: ByteBuffer
            let closes: Bool
            switch outcome {
            case .reply(.respond(let buffer)): (bytes, closes) = (buffer, false)
            case .replyThenClose(let buffer, _): (bytes, closes) = (buffer, true)
            default: throw KafkaCodecError.truncated(field: "no response: \(outcome)", needed: 0)
            }
            _ = bytes.readInteger(as: Int32.self)
            _ = try ResponseHeader.decode(from: &bytes, headerVersion: Response.apiKey.responseHeaderVersion(version))
            return (try Response.decode(from: &bytes, version: version), closes)
        }

        func handshake(_ session: KafkaSession, _ mechanism: String, version: Int16 = 1) async throws -> (response: SaslHandshakeResponse, closes: Bool) {
            try await call(session, SaslHandshakeRequest.with { $0.mechanism = mechanism }, version: version, as: SaslHandshakeResponse.self)
        }

        func authenticate(_ session: KafkaSession, _ token: [UInt8], version: Int16 = 2) async throws -> (response: SaslAuthenticateResponse, closes: Bool) {
            try await call(session, SaslAuthenticateRequest.with { $0.authBytes = ByteBuffer(bytes: token) }, version: version, as: SaslAuthenticateResponse.self)
        }

        /// A whole SCRAM login through SaslAuthenticate; the server's last answer.
        func scramLogin(_ session: KafkaSession, algorithm: ScramAlgorithm, user: String = "alice", password: String) async throws
            -> (response: SaslAuthenticateResponse, closes: Bool)
        {
            #expect(try await handshake(session, algorithm.rawValue).response.errorCode == 0)
            var client = ScramTestClient(algorithm: algorithm, user: user, password: password)
            let first = try await authenticate(session, client.clientFirst())
            #expect(first.response.errorCode == 0 && !first.closes)
            return try await authenticate(session, try client.clientFinal(serverFirst: Array(first.response.authBytes.readableBytesView)))
        }
    }

    @Test(arguments: ScramAlgorithm.allCases)
    func scramLoginThenRequestsAreServed(_ algorithm: ScramAlgorithm) async throws {
        let fixture = try Fixture()
        let session = fixture.session()
        #expect(fixture.limit.current == Limits.kafkaMaxUnauthenticatedRequestBytes)
        let final = try await fixture.scramLogin(session, algorithm: algorithm, password: "wonderland")
        #expect(final.response.errorCode == 0 && !final.closes)
        #expect(String(buffer: final.response.authBytes).hasPrefix("v="))
        #expect(session.user == "alice")
        #expect(fixture.limit.current == 100 << 20)
        let metadata = try await fixture.call(session, MetadataRequest.with { $0.topics = [.with { $0.name = "orders" }] }, version: 8, as: MetadataResponse.self)
        #expect(metadata.response.topics.first?.errorCode == 0)
    }

    @Test func wrongPasswordIsAnsweredSaslAuthenticationFailedThenClosed() async throws {
        let fixture = try Fixture()
        let session = fixture.session()
        let final = try await fixture.scramLogin(session, algorithm: .sha512, password: "looking glass")
        #expect(final.response.errorCode == KafkaErrorCode.saslAuthenticationFailed.rawValue)
        #expect(final.response.errorMessage?.contains("invalid credentials") == true)
        #expect(final.closes)
        #expect(session.user == nil)
    }

    @Test func requestsBeforeAuthenticationCloseTheConnectionAndServeNothing() async throws {
        let fixture = try Fixture()
        let session = fixture.session()
        let versions = try await fixture.call(session, ApiVersionsRequest(), version: 3, as: ApiVersionsResponse.self)
        #expect(versions.response.apiKeys.contains { $0.apiKey == ApiKey.saslAuthenticate.rawValue && $0.maxVersion == 2 })
        let outcome = try await session.handle(fixture.frame(MetadataRequest.with { $0.topics = [.with { $0.name = "created-by-a-stranger" }] }, version: 8))
        guard case .close(let reason) = outcome else {
            Issue.record("expected a close, got \(outcome)")
            return
        }
        #expect(reason.contains("Unexpected Kafka request of type metadata during SASL handshake"))
        #expect(!fixture.store.topicNames.contains("created-by-a-stranger"))
        // Between the handshake and the end of the exchange too.
        let midway = fixture.session()
        _ = try await fixture.handshake(midway, "SCRAM-SHA-256")
        guard case .close = try await midway.handle(fixture.frame(MetadataRequest(), version: 8)) else {
            Issue.record("a request during the exchange was served")
            return
        }
    }

    @Test func unknownMechanismListsTheOffersThenCloses() async throws {
        let fixture = try Fixture()
        let answer = try await fixture.handshake(fixture.session(), "GSSAPI")
        #expect(answer.response.errorCode == KafkaErrorCode.unsupportedSaslMechanism.rawValue)
        #expect(answer.response.mechanisms == ["SCRAM-SHA-256", "SCRAM-SHA-512"], "PLAIN is not offered without TLS")
        #expect(answer.closes)
        #expect(try await fixture.handshake(fixture.session(), "PLAIN").closes)
    }

    @Test func plainIsOfferedWithTLSAndChecksThePassword() async throws {
        let fixture = try Fixture(tls: true)
        let session = fixture.session()
        let handshake = try await fixture.handshake(session, "PLAIN")
        #expect(handshake.response.errorCode == 0 && handshake.response.mechanisms.contains("PLAIN"))
        let login = try await fixture.authenticate(session, Array("\0alice\0wonderland".utf8), version: 0)
        #expect(login.response.errorCode == 0 && !login.closes)
        #expect(session.user == "alice")
        let other = fixture.session()
        _ = try await fixture.handshake(other, "PLAIN")
        let refused = try await fixture.authenticate(other, Array("\0alice\0alice".utf8), version: 1)
        #expect(refused.response.errorCode == KafkaErrorCode.saslAuthenticationFailed.rawValue && refused.closes)
    }

    @Test func saslMessagesOutOfOrderAreIllegalSaslState() async throws {
        let fixture = try Fixture()
        let early = try await fixture.authenticate(fixture.session(), Array("n,,n=alice,r=abc".utf8))
        #expect(early.response.errorCode == KafkaErrorCode.illegalSaslState.rawValue && early.closes)
        let twice = fixture.session()
        _ = try await fixture.handshake(twice, "SCRAM-SHA-256")
        let second = try await fixture.handshake(twice, "SCRAM-SHA-256")
        #expect(second.response.errorCode == KafkaErrorCode.illegalSaslState.rawValue && second.closes)
        // After a login, another handshake is refused but the connection stays (no re-authentication).
        let done = fixture.session()
        _ = try await fixture.scramLogin(done, algorithm: .sha256, password: "wonderland")
        let again = try await fixture.handshake(done, "SCRAM-SHA-256")
        #expect(again.response.errorCode == KafkaErrorCode.illegalSaslState.rawValue && !again.closes)
    }

    @Test func handshakeV0IsFollowedByBareTokens() async throws {
        let fixture = try Fixture()
        let session = fixture.session()
        #expect(try await fixture.handshake(session, "SCRAM-SHA-256", version: 0).response.errorCode == 0)
        var client = ScramTestClient(algorithm: .sha256, user: "alice", password: "wonderland")
        func bare(_ token: [UInt8]) async throws -> [UInt8] {
            guard case .reply(.respond(var bytes)) = try await session.handle(ByteBuffer(bytes: token)) else { throw KafkaCodecError.truncated(field: "answer", needed: 0) }
            let length = bytes.readInteger(as: Int32.self)
            #expect(length.map(Int.init) == bytes.readableBytes)
            return Array(bytes.readableBytesView)
        }
        let serverFirst = try await bare(client.clientFirst())
        let serverFinal = try await bare(try client.clientFinal(serverFirst: serverFirst))
        #expect(String(decoding: serverFinal, as: UTF8.self) == client.expectedServerFinal)
        #expect(session.user == "alice")
    }

    @Test func withoutSaslEveryRequestIsServedAndSaslIsIllegal() async throws {
        let fixture = try Fixture()
        let open = KafkaSession(broker: fixture.broker, users: nil, mechanisms: [], clientHost: "127.0.0.1", frameLimit: nil)
        let metadata = try await fixture.call(open, MetadataRequest(), version: 8, as: MetadataResponse.self)
        #expect(!metadata.closes)
        let handshake = try await fixture.handshake(open, "PLAIN")
        #expect(handshake.response.errorCode == KafkaErrorCode.illegalSaslState.rawValue && !handshake.closes)
    }

    @Test func nonLoopbackAddressesNeedTLSAndSASLOrTheInsecureFlag() throws {
        let fixture = try Fixture()
        let error = try #require(throws: KafkaServerError.self) {
            try KafkaServer(store: fixture.store, configuration: KafkaServerConfiguration(host: "0.0.0.0"))
        }
        #expect(error == .insecureOnNetwork(host: "0.0.0.0", missing: ["TLS", "SASL"]))
        #expect(error.description.contains("--insecure-allow-plaintext-on-network"))
        let onlySasl = KafkaServerConfiguration(host: "0.0.0.0", sasl: KafkaSASLConfiguration(usersFile: fixture.path + "/users.txt"))
        #expect(throws: KafkaServerError.insecureOnNetwork(host: "0.0.0.0", missing: ["TLS"])) { try KafkaServer(store: fixture.store, configuration: onlySasl) }
        _ = try KafkaServer(store: fixture.store, configuration: KafkaServerConfiguration(host: "0.0.0.0", allowsPlaintextOnNetwork: true))
        _ = try KafkaServer(store: fixture.store, configuration: KafkaServerConfiguration(host: "127.0.0.1"))
    }

    @Test func unusableSecurityFilesStopTheServerFromStarting() throws {
        let fixture = try Fixture()
        let missingUsers = KafkaServerConfiguration(sasl: KafkaSASLConfiguration(usersFile: fixture.path + "/none.txt"))
        let users = try #require(throws: KafkaSecurityError.self) { try KafkaServer(store: fixture.store, configuration: missingUsers) }
        #expect(users.code == .usersFileMissing)
        let badTLS = KafkaServerConfiguration(tls: KafkaTLSConfiguration(certificateChainFile: fixture.path + "/users.txt", privateKeyFile: fixture.path + "/none"))
        let tls = try #require(throws: KafkaSecurityError.self) { try KafkaServer(store: fixture.store, configuration: badTLS) }
        #expect(tls.code == .tlsFiles)
    }
}

/// A SCRAM client for the tests (RFC 5802, section 3), built on the server's primitives,
/// which the RFC and hashlib vectors in ScramTests check.
struct ScramTestClient {
    let algorithm: ScramAlgorithm
    let user: String
    let password: String
    let nonce = "clientnonce\(UInt32.random(in: 0...UInt32.max))"
    private(set) var expectedServerFinal = ""

    init(algorithm: ScramAlgorithm, user: String, password: String) {
        self.algorithm = algorithm
        self.user = user
        self.password = password
    }

    var clientFirstBare: String { "n=\(user),r=\(nonce)" }

    func clientFirst() -> [UInt8] { Array("n,,\(clientFirstBare)".utf8) }

    mutating func clientFinal(serverFirst: [UInt8]) throws -> [UInt8] {
        let text = String(decoding: serverFirst, as: UTF8.self)
        let combined = try #require(Self.fields(text)["r"])
        let withoutProof = "c=biws,r=\(combined)"
        return Array("\(withoutProof),p=\(proof(clientFirstBare: clientFirstBare, serverFirst: text, clientFinalWithoutProof: withoutProof))".utf8)
    }

    /// The base64 ClientProof for these messages; remembers the ServerSignature to expect.
    mutating func proof(clientFirstBare: String, serverFirst: String, clientFinalWithoutProof: String) -> String {
        let fields = Self.fields(serverFirst)
        let salt = fields["s"].flatMap { [UInt8](base64: $0) } ?? []
        let iterations = fields["i"].flatMap { Int($0) } ?? 0
        let salted = algorithm.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations)
        let clientKey = algorithm.hmac(key: salted, Array("Client Key".utf8))
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(clientFinalWithoutProof)".utf8)
        let signature = algorithm.hmac(key: algorithm.hash(clientKey), authMessage)
        let serverKey = algorithm.hmac(key: salted, Array("Server Key".utf8))
        expectedServerFinal = "v=" + algorithm.hmac(key: serverKey, authMessage).base64
        return zip(clientKey, signature).map { $0 ^ $1 }.base64
    }

    static func fields(_ message: String) -> [String: String] {
        Dictionary(message.split(separator: ",").map { (String($0.prefix(1)), String($0.dropFirst(2))) }, uniquingKeysWith: { first, _ in first })
    }
}
