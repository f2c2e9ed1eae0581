import Logging
import NIOCore
import NIOPosix
import StreamStore
import StreamStoreFormat

/// Why a ``KafkaServer`` refused to start.
public enum KafkaServerError: Error, Equatable, CustomStringConvertible {
    /// A non-loopback address without TLS and SASL, and without the explicit insecure flag.
    case plaintextOnNetwork(host: String)
    /// The server was started twice.
    case alreadyStarted

    /// The reason in one sentence, with what to do about it.
    public var description: String {
        switch self {
        case .plaintextOnNetwork(let host):
            return "Refusing to serve Kafka in plaintext on \(host): this server has no TLS or SASL yet. Listen on a loopback address, or accept the risk with --insecure-allow-plaintext-on-network."
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
    private let state = Locked(State())

    private struct State {
        var serverChannel: (any Channel)?
        var acceptLoop: Task<Void, Never>?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var boundPort: Int?
    }

    /// A server for `store`; it listens once ``start()`` is called.
    ///
    /// - Throws: ``KafkaServerError/plaintextOnNetwork(host:)`` for a non-loopback `host` without
    ///   the explicit insecure setting.
    public init(store: Store, configuration: KafkaServerConfiguration = KafkaServerConfiguration()) throws {
        guard KafkaServerConfiguration.isLoopback(configuration.host) || configuration.allowsPlaintextOnNetwork else {
            throw KafkaServerError.plaintextOnNetwork(host: configuration.host)
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
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrameBytes)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
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
        configuration.logger.info("Serving the Kafka protocol on \(configuration.host):\(port).")
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

    private func accept(_ server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>) async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } catch {
            configuration.logger.debug("The Kafka listener stopped: \(error)")
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
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
                        for try await frame in inbound {
                            queue.yield(try await broker.handle(frame, clientHost: clientHost))
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
