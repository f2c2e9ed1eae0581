#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Dispatch
import Logging
import StreamStore
import StreamStoreKafka

extension StreamTool {
    /// `stream-tool serve [--listen HOST:PORT]`: the store as a Kafka broker (docs/KAFKA.md).
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the store to Kafka clients: a single-node Kafka broker on its topics.",
            discussion: """
                Kafka clients (librdkafka, kafka-python, the Java client...) produce to and \
                consume from the store's topics, and their consumer groups commit into the \
                store's groups, so `groups lag` shows them. docs/KAFKA.md lists the APIs and \
                versions served and what differs from a Kafka cluster.

                Listens on 127.0.0.1:9092 unless --listen says otherwise. There is no TLS or \
                SASL yet, so a non-loopback address is refused unless \
                --insecure-allow-plaintext-on-network is given. SIGINT or SIGTERM stops the \
                server: requests already read are answered, then the store is closed cleanly.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions
        @OptionGroup(title: "Metrics options") var metrics: MetricsOptions

        @Option(help: ArgumentHelp("The address and port to listen on (port 0: any free one; stderr says which).", valueName: "HOST:PORT"))
        var listen = "127.0.0.1:9092"

        @Option(name: .customLong("advertise"), help: ArgumentHelp("The address clients are told to connect to (default: --listen's).", valueName: "HOST:PORT"))
        var advertise: String?

        @Flag(name: .customLong("insecure-allow-plaintext-on-network"), help: "Serve on a non-loopback address without TLS or SASL: anyone who can reach it can read and write every topic.")
        var insecureAllowPlaintextOnNetwork = false

        @Option(name: .customLong("default-partitions"), help: "Partitions of topics that clients create without saying how many.")
        var defaultPartitions = 1

        @Flag(name: .customLong("no-auto-create-topics"), help: "Do not create topics that clients ask for by name; they must be created first.")
        var noAutoCreateTopics = false

        func validate() throws {
            _ = try Self.hostAndPort(listen)
            if let advertise { _ = try Self.hostAndPort(advertise) }
            guard (1...Limits.maxPartitions).contains(defaultPartitions) else {
                throw ValidationError("--default-partitions must be between 1 and \(Limits.maxPartitions).")
            }
        }

        /// `HOST:PORT`, `[IPv6]:PORT`.
        static func hostAndPort(_ text: String) throws -> (host: String, port: Int) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
                throw ValidationError("\(text) is not HOST:PORT (for example 127.0.0.1:9092).")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw ValidationError("\(text) names no host.") }
            return (host, port)
        }

        func run() async throws {
            try await reportingErrors {
                let (host, port) = try Self.hostAndPort(listen)
                // Refused before the store is opened (or created) for nothing.
                guard KafkaServerConfiguration.isLoopback(host) || insecureAllowPlaintextOnNetwork else {
                    throw ToolError(KafkaServerError.plaintextOnNetwork(host: host).description)
                }
                let advertised = try advertise.map { try Self.hostAndPort($0) }
                // Room for every connection the server admits, plus the store's files.
                if let openFiles = OpenFilesLimit.raise(to: Limits.kafkaServeOpenFiles), openFiles < Limits.kafkaServeOpenFiles {
                    StandardError.line("note: this process may open \(openFiles) files (RLIMIT_NOFILE); past that, connections fail on accept before the limit of \(Limits.kafkaMaxConnections)")
                }
                let metricsServer = try metrics.startServing()
                defer { metricsServer?.stop() }
                let options = storeOptions.resolved(parent: root.storeOptions)
                var logger = Logger(label: "streamstore.kafka") { label in StandardErrorLogHandler(label: label) }
                logger.logLevel = options.logLevelOption ?? .info
                var topicConfig = TopicConfig()
                topicConfig.partitionCount = defaultPartitions
                let configuration = KafkaServerConfiguration(
                    host: host, port: port, advertisedHost: advertised?.host, advertisedPort: advertised?.port,
                    autoCreateTopics: !noAutoCreateTopics, defaultTopicConfig: topicConfig,
                    allowsPlaintextOnNetwork: insecureAllowPlaintextOnNetwork, logger: logger)
                try await options.withStore(createIfMissing: true) { store in
                    let server: KafkaServer
                    do {
                        server = try KafkaServer(store: store, configuration: configuration)
                    } catch let error as KafkaServerError {
                        throw ToolError(error.description)
                    }
                    if !KafkaServerConfiguration.isLoopback(host) {
                        StandardError.line("WARNING: serving Kafka in plaintext, without authentication, on \(host): anyone who reaches it can read and write every topic.")
                    }
                    let bound = try await server.start()
                    StandardError.line("serving Kafka on \(host):\(bound) from \(store.path); Ctrl-C stops")
                    let sources = Self.stopOnSignals(server)
                    defer { for source in sources { source.cancel() } }
                    try await server.run()
                }
            }
        }

        /// SIGINT and SIGTERM shut the server down (once); the store is closed after it.
        static func stopOnSignals(_ server: KafkaServer) -> [any DispatchSourceSignal] {
            [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    StandardError.line("stopping: answering the requests already read, then closing the store")
                    Task { await server.shutdown() }
                }
                source.resume()
                return source
            }
        }
    }
}
