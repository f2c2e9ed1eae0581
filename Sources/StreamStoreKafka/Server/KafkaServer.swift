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
/// ``Store``, so Kafka clients in any language produce to and consume from its topics
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
    }

    /// Checks the configuration and loads the TLS files and the users file. Throws
    /// ``KafkaServerError`` for a non-loopback address without TLS and SASL, and
    /// ``KafkaSecurityError`` for TLS files or a users file that cannot be used.
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
            .serverChannelOption(.backlog, value: 256)
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
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrameBytes, limit: limit)))
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
        let admitted = state.withLock { state -> Bool in
            guard state.connections.count < configuration.maxConnections, state.serverChannel != nil else { return false }
            state.connections[id] = channel
            return true
        }
        guard admitted else {
            configuration.logger.warning("Refused a Kafka connection from \(peer): \(configuration.maxConnections) connections are open.")
            try? await channel.close()
            return
        }
        defer { _ = state.withLock { $0.connections.removeValue(forKey: id) } }
        let clientHost = channel.remoteAddress?.ipAddress ?? ""
        let session = KafkaSession(
            broker: broker, users: users, mechanisms: configuration.offeredSASLMechanisms, clientHost: clientHost, frameLimit: frameLimit)
        do {
            try await connection.executeThenClose { inbound, outbound in
                let (replies, queue) = AsyncStream<KafkaReply>.makeStream()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await reply in replies {
                            switch reply {
                            case .respond(let frame): try await outbound.write(frame)
                            case .later(let task): if let frame = await task.value { try await outbound.write(frame) }
                            case .none: break
                            }
                        }
                    }
                    do {
                        requests: for try await frame in inbound {
                            switch try await session.handle(frame) {
                            case .reply(let reply):
                                queue.yield(reply)
                            case .replyThenClose(let frame, let reason):
                                queue.yield(.respond(frame))
                                configuration.logger.warning("\(reason) Closing the Kafka connection from \(peer).")
                                break requests
                            case .close(let reason):
                                configuration.logger.warning("\(reason) Closing the Kafka connection from \(peer).")
                                break requests
                            }
                        }
                    } catch {
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
