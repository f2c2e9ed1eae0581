import ArgumentParser
import Foundation
import Logging
import StreamStore
import StreamStoreKafka

extension StreamTool {
    /// `stream-tool mirror (--to | --from) HOST:PORT[,HOST:PORT...] [TOPIC...] [--follow]`:
    /// topics copied between the store and a Kafka-protocol cluster (docs/SCALING.md).
    struct Mirror: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy topics to or from a Kafka-protocol cluster, resumable, exactly once.",
            discussion: """
                --to copies the store's topics into the cluster: topics missing there are \
                created with the store's partition count (an existing topic must have the same \
                count), and records go out in partition order with their keys, values, headers \
                and timestamps, through an idempotent producer with acks=all. The store's \
                consumer group mirror-NAME is committed once the cluster acknowledged, so \
                `groups lag mirror-NAME` shows how far the copy is.

                --from copies the cluster's topics into the store the same way (topics created \
                in the store to match), and commits the cluster's group mirror-NAME once the \
                store made the records durable.

                The copy goes into empty partitions only, and nothing else may write them: \
                then the far side's log end tells exactly how much was copied, and a mirror \
                killed at any moment and started again writes nothing twice and skips nothing. \
                Its state (where each partition's copy began, the producer id) is kept in the \
                store, in __kafka/mirror-DIRECTION-NAME.json.

                Without --follow the copy stops at the source's log ends as they were when it \
                began; with --follow it keeps copying as the source grows until SIGINT or \
                SIGTERM. Lost connections, leader changes and broker restarts are retried \
                with backoff. Progress (records, MB/s, lag) is shown on stderr when it is a \
                terminal, and a summary at the end.

                A cluster that requires TLS or a SASL login: --tls (with --tls-ca-file for a \
                private CA) and --sasl-user USER with --sasl-mechanism; the password comes \
                from --sasl-password-file or $STREAM_TOOL_SASL_PASSWORD, never from the \
                command line. A refused certificate or login stops the mirror at once.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions
        @OptionGroup(title: "Metrics options") var metrics: MetricsOptions
        @OptionGroup(title: "Cluster security options") var security: ClusterSecurityOptions

        @Option(name: .customLong("to"), help: ArgumentHelp("Copy the store's topics into the cluster with these bootstrap servers.", valueName: "HOST:PORT[,HOST:PORT...]"))
        var to: String?

        @Option(name: .customLong("from"), help: ArgumentHelp("Copy the cluster's topics into the store.", valueName: "HOST:PORT[,HOST:PORT...]"))
        var from: String?

        @Argument(help: ArgumentHelp("Topics to copy (default: every topic of the source side, except names starting with __).", valueName: "TOPIC"))
        var topics: [String] = []

        @Flag(help: "Keep copying as the source grows, until interrupted.")
        var follow = false

        @Option(help: ArgumentHelp("Names the mirror: its progress group is mirror-NAME.", valueName: "NAME"))
        var name = "default"

        @Option(name: .customLong("batch-bytes"), help: ArgumentHelp("Largest batch sent per partition and request (the cluster's message.max.bytes must allow it).", valueName: "BYTES"))
        var batchBytes = "512KiB"

        @Option(name: .customLong("max-failures"), help: ArgumentHelp("Failures in a row (lost connections, leader changes) retried before giving up; 0: retry forever.", valueName: "N"))
        var maxFailures = 20

        func validate() throws {
            guard (to == nil) != (from == nil) else { throw ValidationError("Give exactly one of --to HOST:PORT or --from HOST:PORT.") }
            guard maxFailures >= 0 else { throw ValidationError("--max-failures must be 0 or more.") }
            _ = try Parsing.byteCount(batchBytes, for: "--batch-bytes")
        }

        func run() async throws {
            try await reportingErrors {
                let metricsServer = try metrics.startServing()
                defer { metricsServer?.stop() }
                let options = storeOptions.resolved(parent: root.storeOptions)
                var logger = Logger(label: "streamstore.mirror") { label in StandardErrorLogHandler(label: label) }
                logger.logLevel = options.logLevelOption ?? .warning
                let direction: KafkaMirrorConfiguration.Direction = to != nil ? .toCluster : .fromCluster
                let servers = (to ?? from ?? "").split(separator: ",").map(String.init)
                let configuration = KafkaMirrorConfiguration(
                    direction: direction, bootstrapServers: servers, topics: topics, name: name, follow: follow,
                    maxBatchBytes: Int(try Parsing.byteCount(batchBytes, for: "--batch-bytes")),
                    maxConsecutiveFailures: maxFailures == 0 ? nil : maxFailures,
                    tls: security.tlsConfiguration, sasl: try security.saslConfiguration(), logger: logger)
                try await options.withStore(createIfMissing: direction == .fromCluster) { store in
                    let mirror: KafkaMirror
                    do {
                        mirror = try KafkaMirror(store: store, configuration: configuration)
                    } catch let error as KafkaClientError {
                        throw ToolError(error.message)
                    }
                    // The progress line lives in its task; it is cleared before the summary.
                    let display = Task {
                        let line = ProgressLine()
                        while !Task.isCancelled {
                            let now = mirror.progress
                            line.update { Self.progressText(now) }
                            try? await Task.sleep(for: .milliseconds(200))
                        }
                        line.finish()
                    }
                    let received = Interruption.Received()
                    let outcome: Result<KafkaMirrorProgress, any Error>
                    do {
                        outcome = .success(try await Interruption.cancellingOnSignals(received) { try await mirror.run() })
                    } catch {
                        outcome = .failure(error)
                    }
                    display.cancel()
                    await display.value
                    switch outcome {
                    case .success(let summary):
                        StandardError.line(Self.summaryText(summary, direction: direction, group: configuration.groupName))
                    case .failure(let error as KafkaClientError):
                        StandardError.line(Self.summaryText(mirror.progress, direction: direction, group: configuration.groupName))
                        throw ToolError(error.message)
                    case .failure(let error):
                        StandardError.line(Self.summaryText(mirror.progress, direction: direction, group: configuration.groupName))
                        throw error
                    }
                }
            }
        }

        static func progressText(_ progress: KafkaMirrorProgress) -> String {
            let seconds = progress.elapsedSeconds
            return "\(Format.grouped(progress.records)) records, \(Format.rate(Double(progress.records), seconds: seconds)) records/s, "
                + "\(Format.megabytesPerSecond(progress.bytes, seconds: seconds)) MB/s, lag \(Format.grouped(progress.lagRecords))"
        }

        static func summaryText(_ progress: KafkaMirrorProgress, direction: KafkaMirrorConfiguration.Direction, group: String) -> String {
            let side = direction == .toCluster ? "to the cluster" : "from the cluster"
            let seconds = progress.elapsedSeconds
            var text = "mirrored \(Format.grouped(progress.records)) records (\(Format.bytes(progress.bytes))) \(side) in \(String(format: "%.1f", seconds)) s: "
            text += "\(Format.rate(Double(progress.records), seconds: seconds)) records/s, \(Format.megabytesPerSecond(progress.bytes, seconds: seconds)) MB/s; "
            text += "lag \(Format.grouped(progress.lagRecords)) records"
            if progress.retries > 0 { text += "; \(progress.retries) retried failure(s)" }
            return text + "; progress group \(group)"
        }
    }
}
