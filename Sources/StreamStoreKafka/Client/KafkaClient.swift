import Logging
import NIOCore

/// A small Kafka client, what a mirror needs: bootstrap over several addresses, metadata with
/// partition leaders, one pipelined connection per broker, topic creation, producer ids,
/// offsets, and group coordinators. It retries nothing itself: callers decide, from
/// ``KafkaClientError/isRetriable``, to refresh metadata and try again.
actor KafkaClient {
    /// One broker address, `HOST:PORT`.
    struct Address: Sendable, Equatable, CustomStringConvertible {
        var host: String
        var port: Int
        var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// `HOST:PORT` or `[IPv6]:PORT`.
        static func parse(_ text: String) throws(KafkaClientError) -> Address {
            let trimmed = text.trimmingWhitespace
            guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]), (1...65535).contains(port) else {
                throw KafkaClientError(.invalidConfiguration, "\(quotedText(text)) is not HOST:PORT (for example 127.0.0.1:9092).")
            }
            var host = String(trimmed[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw KafkaClientError(.invalidConfiguration, "\(quotedText(text)) names no host.") }
            return Address(host: host, port: port)
        }
    }

    struct Timeouts: Sendable {
        var connectMilliseconds: Int64 = 10_000
        var requestMilliseconds: Int64 = 30_000
    }

    private let bootstrap: [Address]
    private let clientId: String
    private let timeouts: Timeouts
    private let security: KafkaConnection.Security
    private let logger: Logger
    /// Where the next bootstrap attempt starts, so a dead first address is not always tried first.
    private var nextBootstrap = 0
    private var any: KafkaConnection?
    private var brokers: [Int32: Address] = [:]
    private var connections: [Int32: KafkaConnection] = [:]
    private var controllerId: Int32 = -1

    init(
        bootstrap: [Address], clientId: String, timeouts: Timeouts = Timeouts(), tls: KafkaClientTLSConfiguration? = nil,
        sasl: KafkaClientSASLConfiguration? = nil, logger: Logger
    ) throws(KafkaClientError) {
        guard !bootstrap.isEmpty else { throw KafkaClientError(.invalidConfiguration, "No bootstrap server was given.") }
        if let sasl, sasl.mechanism.scram == nil, tls == nil {
            throw KafkaClientError(.invalidConfiguration, "SASL PLAIN sends the password in the clear: use it with TLS, or use SCRAM-SHA-256 or SCRAM-SHA-512.")
        }
        self.bootstrap = bootstrap
        self.clientId = clientId
        self.timeouts = timeouts
        self.security = KafkaConnection.Security(tls: try tls?.makeContext(), serverName: tls?.serverName, sasl: sasl)
        self.logger = logger
    }

    /// A connection to any broker: the last one used while it works, else the bootstrap
    /// addresses in turn.
    func anyConnection() async throws(KafkaClientError) -> KafkaConnection {
        if let any, !any.isBroken { return any }
        var failures: [String] = []
        for attempt in 0..<bootstrap.count {
            let address = bootstrap[(nextBootstrap + attempt) % bootstrap.count]
            do {
                let connection = try await connect(address)
                nextBootstrap = (nextBootstrap + attempt) % bootstrap.count
                any = connection
                return connection
            } catch {
                // A refused certificate or login is the same at every address: say so now.
                if [.tls, .authentication, .invalidConfiguration].contains(error.code) { throw error }
                failures.append(error.message)
            }
        }
        nextBootstrap = (nextBootstrap + 1) % bootstrap.count
        throw KafkaClientError(.connection, "No bootstrap server answered: \(failures.joined(separator: " "))")
    }

    private func connect(_ address: Address) async throws(KafkaClientError) -> KafkaConnection {
        try await KafkaConnection.connect(
            host: address.host, port: address.port, clientId: clientId,
            connectTimeoutMilliseconds: timeouts.connectMilliseconds, requestTimeoutMilliseconds: timeouts.requestMilliseconds,
            security: security)
    }

    /// The connection to broker `node`, opened (again) when needed; the node's address comes
    /// from the last metadata.
    func connection(node: Int32) async throws(KafkaClientError) -> KafkaConnection {
        if let existing = connections[node], !existing.isBroken { return existing }
        connections[node]?.close()
        connections[node] = nil
        guard let address = brokers[node] else {
            throw KafkaClientError(.broker, "Broker \(node) is not in the cluster's metadata.", kafkaErrorCode: 5)
        }
        let connection = try await connect(address)
        connections[node] = connection
        return connection
    }

    /// Metadata of `topics` (every topic when nil), without creating any; the brokers it
    /// names replace those known.
    func metadata(topics: [String]?) async throws(KafkaClientError) -> MetadataResponse {
        var request = MetadataRequest()
        request.topics = topics.map { $0.map { name in
            var topic = MetadataRequest.Topic()
            topic.name = name
            return topic
        } }
        request.allowAutoTopicCreation = false
        let connection = try await anyConnection()
        let response = try await connection.send(request, expecting: MetadataResponse.self)
        var known: [Int32: Address] = [:]
        for broker in response.brokers { known[broker.nodeId] = Address(host: broker.host, port: Int(broker.port)) }
        for (node, address) in known where brokers[node] != address {
            connections[node]?.close()
            connections[node] = nil
        }
        brokers = known
        controllerId = response.controllerId
        return response
    }

    /// The controller (topic creation goes there), or any broker when the metadata names none.
    func controllerConnection() async throws(KafkaClientError) -> KafkaConnection {
        if controllerId >= 0, brokers[controllerId] != nil { return try await connection(node: controllerId) }
        return try await anyConnection()
    }

    /// The broker coordinating `group`.
    func coordinator(group: String) async throws(KafkaClientError) -> KafkaConnection {
        var request = FindCoordinatorRequest()
        request.key = group
        let response = try await anyConnection().send(request, expecting: FindCoordinatorResponse.self)
        guard response.errorCode == 0 else { throw KafkaClientError.broker(response.errorCode, "FindCoordinator for group \(quotedText(group))") }
        let address = Address(host: response.host, port: Int(response.port))
        if brokers[response.nodeId] != address {
            connections[response.nodeId]?.close()
            connections[response.nodeId] = nil
            brokers[response.nodeId] = address
        }
        return try await connection(node: response.nodeId)
    }

    /// Closes every connection.
    func close() {
        any?.close()
        for connection in connections.values { connection.close() }
        any = nil
        connections = [:]
    }
}

private func quotedText(_ text: String) -> String { "\"\(text)\"" }

extension String {
    fileprivate var trimmingWhitespace: String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return String(text)
    }
}
