import Logging
import NIOCore
import StreamStoreFormat

/// One connection's way through authentication, as a Kafka broker's SASL authenticator
/// goes, before its requests reach the ``KafkaBroker``:
///
/// ```
///  ApiVersions (any number) ──► SaslHandshake(mechanism) ──► SaslAuthenticate × n ──► authenticated
///        │ other request: close         │ unknown mechanism:          │ bad credentials:
///        ▼                              ▼ UNSUPPORTED_SASL_MECHANISM  ▼ SASL_AUTHENTICATION_FAILED
///                                         then close                    then close
/// ```
///
/// A request of any other API before authentication closes the connection without an
/// answer, as Kafka does ("Unexpected Kafka request of type ... during SASL handshake"): its
/// response has no place for an authentication error, and the client learns from the close.
/// A SaslAuthenticate without a handshake, or a second handshake, is answered
/// ILLEGAL_SASL_STATE and the connection closed. A SaslHandshake v0 is followed by bare SASL
/// tokens instead of SaslAuthenticate requests (clients before Kafka 1.0), answered as bare
/// tokens. Without SASL configured every request goes straight to the broker.
final class KafkaSession {
    /// What the connection does with a frame's outcome.
    enum Outcome {
        /// Send this (or nothing) and read the next request.
        case reply(KafkaReply)
        /// Send this frame, then close the connection.
        case replyThenClose(ByteBuffer, reason: String)
        /// Close the connection without an answer.
        case close(reason: String)
    }

    private enum State {
        case handshake
        case authenticating(SaslExchange, handshakeVersion: Int16)
        case authenticated(user: String)
    }

    private let broker: KafkaBroker
    private let users: KafkaUserStore?
    private let mechanisms: [KafkaSASLMechanism]
    private let clientHost: String
    private let frameLimit: KafkaFrameLimit?
    private var state: State
    private var logger: Logger { broker.logger }

    /// `users` nil: no SASL, every request is served. `frameLimit` is raised to the server's
    /// request limit once the client has authenticated.
    init(broker: KafkaBroker, users: KafkaUserStore?, mechanisms: [KafkaSASLMechanism], clientHost: String, frameLimit: KafkaFrameLimit?) {
        self.broker = broker
        self.users = users
        self.mechanisms = mechanisms
        self.clientHost = clientHost
        self.frameLimit = frameLimit
        self.state = users == nil ? .authenticated(user: "") : .handshake
    }

    /// The user this connection authenticated as; nil before (or without SASL, "").
    var user: String? {
        if case .authenticated(let user) = state { return user }
        return nil
    }

    /// Serves one frame (the bytes after its length prefix).
    func handle(_ frame: ByteBuffer) async throws(KafkaCodecError) -> Outcome {
        switch state {
        case .authenticated:
            return .reply(try await broker.handle(frame, clientHost: clientHost))
        case .authenticating(var exchange, let handshakeVersion) where handshakeVersion == 0:
            // After a v0 handshake the frame is a bare SASL token, and so is the answer.
            do throws(SaslFailure) {
                let (response, user) = try exchange.receive(Array(frame.readableBytesView))
                state = user.map { .authenticated(user: $0) } ?? .authenticating(exchange, handshakeVersion: 0)
                if let user { authenticated(user, exchange.mechanism) }
                var bytes = ByteBuffer()
                bytes.writeInteger(Int32(response.count))
                bytes.writeBytes(response)
                return .reply(.respond(bytes))
            } catch {
                return .close(reason: failed(error, exchange.mechanism))
            }
        case .handshake, .authenticating:
            return try await unauthenticated(frame)
        }
    }

    private func unauthenticated(_ frame: ByteBuffer) async throws(KafkaCodecError) -> Outcome {
        var body = frame
        let header = try RequestHeader.decode(from: &body)
        guard let key = ApiKey(rawValue: header.apiKey) else { throw .unknownApiKey(header.apiKey) }
        let servedVersion = key.supportedVersions?.contains(header.apiVersion) ?? false
        switch key {
        case .apiVersions:
            return .reply(try await broker.handle(frame, clientHost: clientHost))
        case .saslHandshake where servedVersion:
            return try handshake(try .decode(from: &body, version: header.apiVersion), header: header)
        case .saslAuthenticate where servedVersion:
            return try authenticate(try .decode(from: &body, version: header.apiVersion), header: header)
        default:
            var stage = "SASL authentication"
            if case .handshake = state { stage = "SASL handshake" }
            return .close(reason: "Unexpected Kafka request of type \(key) during \(stage).")
        }
    }

    private func handshake(_ request: SaslHandshakeRequest, header: RequestHeader) throws(KafkaCodecError) -> Outcome {
        var response = SaslHandshakeResponse()
        response.mechanisms = mechanisms.map(\.rawValue)
        guard case .handshake = state else {
            response.errorCode = KafkaErrorCode.illegalSaslState.rawValue
            return .replyThenClose(KafkaBroker.frame(response, to: header), reason: "A second SaslHandshake.")
        }
        guard let mechanism = KafkaSASLMechanism(rawValue: request.mechanism), mechanisms.contains(mechanism), let users else {
            response.errorCode = KafkaErrorCode.unsupportedSaslMechanism.rawValue
            let offered = mechanisms.map(\.rawValue).joined(separator: ", ")
            return .replyThenClose(
                KafkaBroker.frame(response, to: header),
                reason: "The client asked for SASL mechanism \(request.mechanism); offered: \(offered).")
        }
        state = .authenticating(SaslExchange(mechanism: mechanism, users: { users.current() }), handshakeVersion: header.apiVersion)
        return .reply(.respond(KafkaBroker.frame(response, to: header)))
    }

    private func authenticate(_ request: SaslAuthenticateRequest, header: RequestHeader) throws(KafkaCodecError) -> Outcome {
        var response = SaslAuthenticateResponse()
        guard case .authenticating(var exchange, _) = state else {
            response.errorCode = KafkaErrorCode.illegalSaslState.rawValue
            response.errorMessage = "Unexpected SaslAuthenticate request without a SaslHandshake first."
            return .replyThenClose(KafkaBroker.frame(response, to: header), reason: "A SaslAuthenticate without a handshake.")
        }
        do throws(SaslFailure) {
            let (bytes, user) = try exchange.receive(Array(request.authBytes.readableBytesView))
            response.authBytes = ByteBuffer(bytes: bytes)
            if let user {
                state = .authenticated(user: user)
                authenticated(user, exchange.mechanism)
            } else {
                state = .authenticating(exchange, handshakeVersion: 1)
            }
            return .reply(.respond(KafkaBroker.frame(response, to: header)))
        } catch {
            response.errorCode = KafkaErrorCode.saslAuthenticationFailed.rawValue
            response.errorMessage = error.clientMessage
            return .replyThenClose(KafkaBroker.frame(response, to: header), reason: failed(error, exchange.mechanism))
        }
    }

    private func authenticated(_ user: String, _ mechanism: KafkaSASLMechanism) {
        frameLimit?.raise()
        logger.info("Authenticated \(user) with \(mechanism.rawValue) from \(clientHost).")
    }

    /// Why the connection closes after a failed login (the server logs it with the peer).
    private func failed(_ failure: SaslFailure, _ mechanism: KafkaSASLMechanism) -> String {
        "Failed authentication with \(mechanism.rawValue): \(failure.detail)."
    }
}

/// The largest frame a connection may send: small until it authenticates (SASL messages are
/// small, `Limits.kafkaMaxUnauthenticatedRequestBytes`), the server's request limit after.
/// Shared by the connection's frame decoder (on its event loop) and its session.
final class KafkaFrameLimit: Sendable {
    private let bytes: Locked<Int>
    private let authenticatedBytes: Int

    init(authenticatedBytes: Int) {
        self.authenticatedBytes = authenticatedBytes
        self.bytes = Locked(min(Limits.kafkaMaxUnauthenticatedRequestBytes, authenticatedBytes))
    }

    var current: Int { bytes.withLock { $0 } }

    func raise() { bytes.withLock { $0 = authenticatedBytes } }
}
