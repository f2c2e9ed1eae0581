import Logging
import NIOCore
import NIOPosix
import NIOSSL
import StreamStore
import StreamStoreFormat

/// Why a ``KafkaServer`` refused to start.
public enum KafkaServerError: Error, Equatable, CustomStringConvertible {
    /// A non-loopback address without TLS or without SASL (`missing` says which), and
    /// without the explicit insecure flag.
    case insecureOnNetwork(host: String, missing: [String])
    /// The server was started twice.
    case alreadyStarted

    /// The reason in one sentence, with what to do about it.
    public var description: String {
        switch self {
        case .insecureOnNetwork(let host, let missing):
            let lacking = missing.joined(separator: " and ")
            return "Refusing to serve Kafka on \(host) without \(lacking): anyone who reaches it could read and write every topic. "
                + "Give a certificate and key for TLS and a users file for SASL, listen on a loopback address, "
                + "or accept the risk with --insecure-allow-plaintext-on-network."
        case .alreadyStarted: return "The server is already running."
        }
    }
}

/// The store as a Kafka broker: a SwiftNIO server speaking Kafka's wire protocol in front of a
/// `Store`, so Kafka clients in any language produce to and consume from its topics
/// (docs/KAFKA.md lists the APIs and versions served).
///
/// ```swift
/// let store = try Store.open(at: "/var/lib/events")
/// let server = try KafkaServer(store: store, configuration: KafkaServerConfiguration(port: 9092))
/// let port = try await server.start()
/// // ... on shutdown:
/// await server.shutdown()
/// try store.close()
/// ```
///
/// Requests of one connection are answered in order; different connections run concurrently.
/// A produce request's batches are written before the next request of its connection is
/// read, and its answer waits for durability without holding the connection up.
public final class KafkaServer: Sendable {
    private let broker: KafkaBroker
    private let configuration: KafkaServerConfiguration
    private let tlsContext: NIOSSLContext?
    private let users: KafkaUserStore?
    private let state = Locked(State())

    private struct State {
        var serverChannel: (any Channel)?
        var acceptLoop: Task<Void, Never>?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var boundPort: Int?
        var refusals = RefusalLogThrottle()
    }

    /// A server for `store`; it listens once ``start()`` is called. Checks the configuration
    /// and loads the TLS files and the users file.
    ///
    /// - Throws: ``KafkaServerError/insecureOnNetwork(host:missing:)`` for a non-loopback `host`
    ///   without TLS and SASL and without the explicit insecure setting;
    ///   ``KafkaSecurityError`` for TLS files or a users file that cannot be used.
    public init(store: Store, configuration: KafkaServerConfiguration = KafkaServerConfiguration()) throws {
        let missing = configuration.missingNetworkProtection
        guard KafkaServerConfiguration.isLoopback(configuration.host) || missing.isEmpty || configuration.allowsPlaintextOnNetwork else {
            throw KafkaServerError.insecureOnNetwork(host: configuration.host, missing: missing)
        }
        self.tlsContext = try configuration.tls?.makeContext()
        if let sasl = configuration.sasl {
            self.users = try KafkaUserStore(path: sasl.usersFile, logger: configuration.logger)
        } else {
            self.users = nil
        }
        self.configuration = configuration
        self.broker = try KafkaBroker(store: store, configuration: configuration)
    }

    /// The port the server listens on, once started.
    public var port: Int? { state.withLock { $0.boundPort } }

    /// Binds and starts accepting connections; returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        guard state.withLock({ $0.serverChannel == nil }) else { throw KafkaServerError.alreadyStarted }
        let maxFrameBytes = configuration.maxRequestBytes
        let idle = TimeAmount.milliseconds(configuration.idleTimeoutMilliseconds)
        let tlsContext = self.tlsContext
        let authenticates = users != nil
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: Limits.kafkaListenBacklog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                        try channel.pipeline.syncOperations.addHandler(TLSInputCloser())
                    }
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    let limit = authenticates ? KafkaFrameLimit(authenticatedBytes: maxFrameBytes) : nil
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder.requests(maxFrameBytes: maxFrameBytes, limit: limit)))
                    return AcceptedConnection(
                        channel: try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), frameLimit: limit)
                }
            }
        let port = server.channel.localAddress?.port ?? configuration.port
        broker.advertised.withLock {
            $0 = (configuration.advertisedHost ?? configuration.host, Int32(configuration.advertisedPort ?? port))
        }
        let loop = Task { await self.accept(server) }
        state.withLock {
            $0.serverChannel = server.channel
            $0.acceptLoop = loop
            $0.boundPort = port
        }
        let security = [tlsContext == nil ? nil : "TLS", users == nil ? nil : "SASL \(configuration.offeredSASLMechanisms.map(\.rawValue).joined(separator: ", "))"]
            .compactMap { $0 }
        configuration.logger.info("Serving the Kafka protocol on \(configuration.host):\(port)\(security.isEmpty ? "" : " with " + security.joined(separator: " and ")).")
        return port
    }

    /// Runs until ``shutdown()`` is called (from another task or a signal handler).
    public func run() async throws {
        if port == nil { try await start() }
        await state.withLock { $0.acceptLoop }?.value
    }

    /// Stops accepting connections, lets every connection answer the requests it has read
    /// (a waiting fetch answers at once), and returns once all connections are closed. The
    /// store stays open: its owner closes it.
    public func shutdown() async {
        let (server, connections, loop) = state.withLock { ($0.serverChannel, Array($0.connections.values), $0.acceptLoop) }
        guard let server else { return }
        try? await server.close()
        await broker.groups.shutdown()
        for connection in connections {
            // No more requests are read; the answers owed are still written, then it closes.
            connection.close(mode: .input, promise: nil)
        }
        await loop?.value
        configuration.logger.info("The Kafka server stopped.")
    }

    /// A connection as the listener hands it over: the channel and its frame limit (SASL only).
    private struct AcceptedConnection: Sendable {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let frameLimit: KafkaFrameLimit?
    }

    private func accept(_ server: NIOAsyncChannel<AcceptedConnection, Never>) async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection.channel, frameLimit: connection.frameLimit) }
                    }
                }
            }
        } catch {
            configuration.logger.debug("The Kafka listener stopped: \(error)")
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, frameLimit: KafkaFrameLimit?) async {
        let channel = connection.channel
        let peer = channel.remoteAddress?.description ?? "unknown peer"
        let id = ObjectIdentifier(channel)
        let metrics = KafkaServerMetrics.shared
        let (admitted, open, refusalsToLog) = state.withLock { state -> (Bool, Int, Int?) in
            guard state.connections.count < configuration.maxConnections, state.serverChannel != nil else {
                return (false, state.connections.count, state.refusals.refused(now: .now))
            }
            state.connections[id] = channel
            return (true, state.connections.count, nil)
        }
        guard admitted else {
            metrics.connectionRefused()
            if let refusalsToLog {
                configuration.logger.warning(
                    "Refused \(refusalsToLog == 1 ? "a Kafka connection" : "\(refusalsToLog) Kafka connections") (the last from \(peer)): \(open) of \(configuration.maxConnections) connections are open.")
            }
            try? await channel.close()
            return
        }
        metrics.connectionAccepted(open: open)
        defer { metrics.connectionClosed(open: state.withLock { $0.connections.removeValue(forKey: id); return $0.connections.count }) }
        let clientHost = channel.remoteAddress?.ipAddress ?? ""
        let session = KafkaSession(
            broker: broker, users: users, mechanisms: configuration.offeredSASLMechanisms, clientHost: clientHost, frameLimit: frameLimit)
        do {
            try await connection.executeThenClose { inbound, outbound in
                let (replies, queue) = AsyncStream<(reply: KafkaReply, apiKey: Int16, start: NIODeadline)>.makeStream()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await (reply, apiKey, start) in replies {
                            let frame: ByteBuffer?
                            switch reply {
                            case .respond(let ready): frame = ready
                            case .later(let task): frame = await task.value
                            case .none: frame = nil
                            }
                            metrics.recordDuration(apiKey: apiKey, since: start)
                            if let frame {
                                metrics.sentBytes.increment(by: Int64(frame.readableBytes))
                                try await outbound.write(frame)
                            }
                        }
                    }
                    do {
                        requests: for try await frame in inbound {
                            let start = NIODeadline.now()
                            metrics.receivedBytes.increment(by: Int64(4 + frame.readableBytes))
                            let apiKey = frame.getInteger(at: frame.readerIndex, as: Int16.self) ?? -1
                            switch try await session.handle(frame) {
                            case .reply(let reply):
                                queue.yield((reply, apiKey, start))
                            case .replyThenClose(let frame, let reason):
                                queue.yield((.respond(frame), apiKey, start))
                                configuration.logger.warning("\(reason) Closing the Kafka connection from \(peer).")
                                break requests
                            case .close(let reason):
                                configuration.logger.warning("\(reason) Closing the Kafka connection from \(peer).")
                                break requests
                            }
                        }
                    } catch {
                        metrics.badFrame()
                        configuration.logger.warning("Closing the Kafka connection from \(peer): \(error)")
                    }
                    queue.finish()
                    try await group.waitForAll()
                }
            }
        } catch {
            configuration.logger.debug("Kafka connection from \(peer) ended: \(error)")
        }
    }
}
