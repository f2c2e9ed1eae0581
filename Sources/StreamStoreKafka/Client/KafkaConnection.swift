import NIOCore
import NIOPosix
import NIOSSL
import StreamStoreFormat

/// One TCP connection to one broker: requests are pipelined (each waits for the answer with its
/// correlation id), and versions are those both sides speak, agreed through ApiVersions when
/// the connection opens. Requests sent one after the other from one task reach the broker in
/// that order, which idempotent producers rely on.
final class KafkaConnection: Sendable {
    let host: String
    let port: Int
    private let channel: any Channel
    private let pending: PendingRequests
    private let clientId: String
    private let requestTimeout: TimeAmount
    /// The version of each API to use with this broker.
    private let versions: [ApiKey: Int16]

    private init(host: String, port: Int, channel: any Channel, pending: PendingRequests, clientId: String, requestTimeout: TimeAmount, versions: [ApiKey: Int16]) {
        self.host = host
        self.port = port
        self.channel = channel
        self.pending = pending
        self.clientId = clientId
        self.requestTimeout = requestTimeout
        self.versions = versions
    }

    /// The versions this client speaks: those of its codec (the server's), Metadata from v1
    /// (v0 cannot ask for no topics).
    /// InitProducerId also up to v4 (flexible): some brokers (Tansu) need v3's explicit "no
    /// producer yet" (-1, -1).
    static func clientVersions(_ key: ApiKey) -> ClosedRange<Int16>? {
        if key == .initProducerId { return 0...4 }
        guard let versions = key.supportedVersions else { return nil }
        return key == .metadata ? max(1, versions.lowerBound)...versions.upperBound : versions
    }

    /// TLS and SASL for a connection; both nil: plaintext, no login.
    struct Security: Sendable {
        var tls: NIOSSLContext?
        /// The name the broker's certificate must carry (and the SNI); nil: the host.
        var serverName: String?
        var sasl: KafkaClientSASLConfiguration?

        static let none = Security()
    }

    /// Connects, agrees on versions and logs in when `security` asks for it. Fails with
    /// `.connection` when the broker cannot be reached within `connectTimeoutMilliseconds`,
    /// `.tls` when the TLS handshake fails, `.authentication` when the login does.
    static func connect(
        host: String, port: Int, clientId: String, connectTimeoutMilliseconds: Int64, requestTimeoutMilliseconds: Int64,
        security: Security = .none
    ) async throws(KafkaClientError) -> KafkaConnection {
        let address = "\(host):\(port)"
        let pending = PendingRequests(address: address)
        let channel: any Channel
        // SNI and the certificate's host check take a name; an IP address is checked against
        // the certificate's IP entries from the peer's address instead.
        let tlsName = security.serverName ?? (Self.isIPAddress(host) ? nil : host)
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(connectTimeoutMilliseconds))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls = security.tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: tlsName))
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(KafkaFrameDecoder.responses(maxFrameBytes: Limits.kafkaMaxRequestBytes)))
                        try channel.pipeline.syncOperations.addHandler(KafkaResponseHandler(pending: pending))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw KafkaClientError(.connection, "Cannot connect to \(address): \(error).")
        }
        let probe = KafkaConnection(
            host: host, port: port, channel: channel, pending: pending, clientId: clientId,
            requestTimeout: .milliseconds(requestTimeoutMilliseconds), versions: [.apiVersions: 0])
        let answer: ApiVersionsResponse
        do {
            answer = try await probe.send(ApiVersionsRequest())
        } catch {
            probe.close()
            throw error
        }
        guard answer.errorCode == 0 else {
            probe.close()
            throw KafkaClientError.broker(answer.errorCode, "ApiVersions at \(address)")
        }
        var versions: [ApiKey: Int16] = [.apiVersions: 0]
        for api in answer.apiKeys {
            guard let key = ApiKey(rawValue: api.apiKey), key != .apiVersions, let ours = clientVersions(key) else { continue }
            let version = min(ours.upperBound, api.maxVersion)
            if version >= max(ours.lowerBound, api.minVersion) { versions[key] = version }
        }
        let connection = KafkaConnection(
            host: host, port: port, channel: channel, pending: pending, clientId: clientId,
            requestTimeout: .milliseconds(requestTimeoutMilliseconds), versions: versions)
        if let sasl = security.sasl {
            do {
                try await connection.logIn(sasl, overTLS: security.tls != nil)
            } catch {
                connection.close()
                throw error
            }
        }
        return connection
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || (host.split(separator: ".").count == 4 && host.allSatisfy { $0 == "." || $0.isNumber })
    }

    var address: String { "\(host):\(port)" }

    /// True once the connection broke or was closed: the client opens a new one.
    var isBroken: Bool { pending.isBroken || !channel.isActive }

    /// The version used for `key`; `.unsupportedVersion` when the broker serves none this client speaks.
    func version(_ key: ApiKey) throws(KafkaClientError) -> Int16 {
        guard let version = versions[key] else {
            throw KafkaClientError(.unsupportedVersion, "The broker at \(address) serves no version of \(key) that this client speaks (\(Self.clientVersions(key).map { "\($0)" } ?? "none")).")
        }
        return version
    }

    /// An answer on its way: ``answer()`` waits for it and decodes it.
    struct Answer<Response: KafkaMessage>: Sendable {
        fileprivate let future: EventLoopFuture<ByteBuffer>
        fileprivate let version: Int16
        fileprivate let address: String

        func answer() async throws(KafkaClientError) -> Response {
            let key = Response.apiKey
            var frame: ByteBuffer
            do {
                frame = try await future.get()
            } catch let error as KafkaClientError {
                throw error
            } catch {
                throw KafkaClientError(.connection, "\(key) to \(address) failed: \(error).")
            }
            do {
                if key.responseHeaderVersion(version) >= 1 {
                    var header = KafkaDecoder(buffer: frame, isFlexible: true)
                    try header.taggedFields()
                    frame = header.buffer
                }
                return try Response.decode(from: &frame, version: version)
            } catch {
                throw KafkaClientError(.protocolViolation, "Cannot decode the \(key) v\(version) answer from \(address): \(error).")
            }
        }
    }

    /// Writes `request` now (requests started one after the other go out in that order) and
    /// returns its answer to wait for. `extraTimeoutMilliseconds` lengthens the wait for
    /// requests the broker may hold (a long-polling fetch).
    func start<Request: KafkaMessage, Response: KafkaMessage>(
        _ request: Request, expecting: Response.Type = Response.self, extraTimeoutMilliseconds: Int64 = 0
    ) throws(KafkaClientError) -> Answer<Response> {
        let key = Request.apiKey
        let version = try version(key)
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let answer = Answer<Response>(future: promise.futureResult, version: version, address: address)
        guard let correlationId = pending.register(promise) else { return answer }
        var buffer = channel.allocator.buffer(capacity: 256)
        buffer.writeInteger(Int32(0))
        RequestHeader(apiKey: key.rawValue, apiVersion: version, correlationId: correlationId, clientId: clientId).encode(into: &buffer)
        request.encode(into: &buffer, version: version)
        buffer.setInteger(Int32(buffer.readableBytes - 4), at: buffer.readerIndex)
        let timeout = requestTimeout + .milliseconds(extraTimeoutMilliseconds)
        let (pending, channel) = (self.pending, self.channel)
        // A broker that does not answer in time costs the connection: a later answer could no
        // longer be told from a fresh one.
        pending.setTimer(correlationId, channel.eventLoop.scheduleTask(in: timeout) {
            pending.fail(correlationId, KafkaClientError(.connection, "\(key) to \(pending.address) had no answer within \(timeout.nanoseconds / 1_000_000) ms."))
            channel.close(promise: nil)
        })
        channel.writeAndFlush(buffer).whenFailure { error in
            pending.fail(correlationId, KafkaClientError(.connection, "Cannot send \(key) to \(pending.address): \(error)."))
        }
        return answer
    }

    /// Sends `request` and waits for its decoded answer.
    func send<Request: KafkaMessage, Response: KafkaMessage>(
        _ request: Request, expecting: Response.Type = Response.self, extraTimeoutMilliseconds: Int64 = 0
    ) async throws(KafkaClientError) -> Response {
        try await start(request, expecting: Response.self, extraTimeoutMilliseconds: extraTimeoutMilliseconds).answer()
    }

    func close() {
        channel.close(promise: nil)
    }
}
