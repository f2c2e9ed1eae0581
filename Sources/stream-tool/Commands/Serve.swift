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

                Listens on 127.0.0.1:9092 unless --listen says otherwise. --tls-cert and \
                --tls-key turn on TLS; --users FILE turns on SASL authentication (SCRAM-SHA-256, \
                SCRAM-SHA-512, and PLAIN with TLS) against a users file that `users add` \
                writes. A non-loopback address needs both, unless \
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

        @Option(name: .customLong("tls-cert"), help: ArgumentHelp("The server's TLS certificate chain (PEM); needs --tls-key.", valueName: "FILE"))
        var tlsCertificate: String?

        @Option(name: .customLong("tls-key"), help: ArgumentHelp("The private key of --tls-cert (unencrypted PEM).", valueName: "FILE"))
        var tlsKey: String?

        @Option(help: ArgumentHelp("Require SASL authentication against this users file (see `users add`).", valueName: "FILE"))
        var users: String?

        @Option(
            name: .customLong("sasl-mechanism"),
            help: ArgumentHelp("A SASL mechanism to offer: SCRAM-SHA-256, SCRAM-SHA-512, PLAIN (TLS only); repeat for more (default: all).", valueName: "NAME"))
        var saslMechanisms: [String] = []

        @Flag(
            name: .customLong("insecure-allow-plaintext-on-network"),
            help: "Serve on a non-loopback address without TLS or without SASL: anyone who can reach it may read and write every topic.")
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
            guard (tlsCertificate == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together: give both.") }
            _ = try saslConfiguration()
        }

        /// --users and --sasl-mechanism as the server takes them; nil without --users.
        func saslConfiguration() throws -> KafkaSASLConfiguration? {
            let mechanisms = try saslMechanisms.map { name in
                guard let mechanism = KafkaSASLMechanism(rawValue: name.uppercased()) else {
                    throw ValidationError("--sasl-mechanism \(name) is not one of SCRAM-SHA-256, SCRAM-SHA-512, PLAIN.")
                }
                return mechanism
            }
            guard let users else {
                guard mechanisms.isEmpty else { throw ValidationError("--sasl-mechanism needs --users FILE.") }
                return nil
            }
            if mechanisms == [.plain] && tlsCertificate == nil {
                throw ValidationError("PLAIN sends passwords as they are: it is offered only with TLS (--tls-cert and --tls-key).")
            }
            return KafkaSASLConfiguration(usersFile: users, mechanisms: mechanisms.isEmpty ? KafkaSASLMechanism.allCases : mechanisms)
        }

        var tlsConfiguration: KafkaTLSConfiguration? {
            guard let tlsCertificate, let tlsKey else { return nil }
            return KafkaTLSConfiguration(certificateChainFile: tlsCertificate, privateKeyFile: tlsKey)
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
                var security = KafkaServerConfiguration(host: host, tls: tlsConfiguration, sasl: try saslConfiguration())
                security.allowsPlaintextOnNetwork = insecureAllowPlaintextOnNetwork
                let missing = security.missingNetworkProtection
                // Refused before the store is opened (or created) for nothing.
                guard KafkaServerConfiguration.isLoopback(host) || missing.isEmpty || insecureAllowPlaintextOnNetwork else {
                    throw ToolError(KafkaServerError.insecureOnNetwork(host: host, missing: missing).description)
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
                    autoCreateTopics: !noAutoCreateTopics, defaultTopicConfig: topicConfig, tls: security.tls, sasl: security.sasl,
                    allowsPlaintextOnNetwork: insecureAllowPlaintextOnNetwork, logger: logger)
                try await options.withStore(createIfMissing: true) { store in
                    let server: KafkaServer
                    do {
                        server = try KafkaServer(store: store, configuration: configuration)
                    } catch let error as KafkaServerError {
                        throw ToolError(error.description)
                    } catch let error as KafkaSecurityError {
                        throw ToolError(error.description)
                    }
                    if !KafkaServerConfiguration.isLoopback(host) && !missing.isEmpty {
                        StandardError.line(
                            "WARNING: serving Kafka on \(host) without \(missing.joined(separator: " and ")) (--insecure-allow-plaintext-on-network): "
                                + "anyone who reaches it can read and write every topic.")
                    }
                    let bound = try await server.start()
                    let protection = [security.tls == nil ? nil : "TLS", security.sasl == nil ? nil : "SASL"].compactMap { $0 }
                    let with = protection.isEmpty ? "" : " with " + protection.joined(separator: " and ")
                    StandardError.line("serving Kafka on \(host):\(bound)\(with) from \(store.path); Ctrl-C stops")
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
