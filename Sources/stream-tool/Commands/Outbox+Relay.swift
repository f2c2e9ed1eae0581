import ArgumentParser
import CoreMetrics
import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox

extension StreamTool.OutboxCommand {
    /// `stream-tool outbox relay --db FILE [--follow]`: the relay as a process of its own, beside
    /// a service that writes the outbox but runs no relay.
    struct Relay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish the outbox's pending rows to their topics.",
            discussion: """
                Reads the rows of the outbox table oldest first, appends them in batches (the \
                rows of one partition in commit order), waits until they are durable, and \
                deletes them. A topic that does not exist is created with one partition and a \
                one-day de-duplication window; a topic without a window is refused, since a row \
                published again after a crash would then appear twice.

                Without --follow it publishes what is pending and exits. With --follow it keeps \
                publishing, looking for new rows every --poll, until interrupted (Ctrl-C or \
                SIGTERM); failures are retried with a growing wait and counted. A summary goes \
                to stderr.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions
        @OptionGroup var database: OutboxDatabaseOptions
        @OptionGroup(title: "Metrics options") var metrics: MetricsOptions

        @Flag(help: "Keep publishing new rows until interrupted.")
        var follow = false

        @Option(help: ArgumentHelp("Rows per batch, 1 to 10000.", valueName: "N"))
        var batchRows = 1000

        @Option(help: ArgumentHelp("How often --follow looks for new rows.", valueName: "DURATION"))
        var poll = "100ms"

        func run() async throws {
            try await reportingErrors { try await publish() }
        }

        private func publish() async throws {
            let pollMilliseconds = try Parsing.durationMilliseconds(poll, for: "--poll")
            let metricsServer = try metrics.startServing()
            defer { metricsServer?.stop() }
            let db = try database.open()
            let options = storeOptions.resolved(parent: root.storeOptions)
            let follow = self.follow
            var relayOptions = OutboxRelay.Options(batchRows: batchRows, pollMilliseconds: pollMilliseconds)
            if follow {
                let report: @Sendable (any Error) -> Void = { error in StandardError.line("note: relay pass failed, retrying: \(error)") }
                relayOptions.onError = report
            }
            try await options.withStore(createIfMissing: true) { store in
                let relay = try OutboxRelay(database: db, store: store, options: relayOptions)
                let started = Stopwatch()
                if follow {
                    try await Self.follow(relay, gauges: OutboxGauges(database: db, relay: relay))
                } else {
                    try await relay.publishPending()
                }
                let statistics = relay.statistics
                var summary = "published \(Format.count(Int64(statistics.publishedRows), "row")) in \(Format.seconds(started.elapsedSeconds))"
                if statistics.errors > 0 { summary += "; \(statistics.errors) failed passes, the last: \(statistics.lastError ?? "")" }
                StandardError.line(summary)
            }
        }

        /// Runs the relay and the metrics until SIGINT or SIGTERM.
        private static func follow(_ relay: OutboxRelay, gauges: OutboxGauges) async throws {
            let received = Interruption.Received()
            try await Interruption.cancellingOnSignals(received) {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await relay.run() }
                    group.addTask { await gauges.update(everyMilliseconds: 1000) }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}

/// The relay's numbers as swift-metrics gauges and counters (served with --metrics-port):
/// pending rows, the oldest pending row's age, rows published (a total and per second), failed
/// passes.
struct OutboxGauges: Sendable {
    let database: DatabaseQueue
    let relay: OutboxRelay
    let pendingRows = Gauge(label: "streamstore_outbox_pending_rows")
    let oldestPendingAge = Gauge(label: "streamstore_outbox_oldest_pending_age_milliseconds")
    let publishedPerSecond = Gauge(label: "streamstore_outbox_published_rows_per_second")
    let published = Counter(label: "streamstore_outbox_published_rows_total")
    let errors = Counter(label: "streamstore_outbox_relay_errors_total")

    /// Refreshes the metrics every `milliseconds` until cancelled.
    func update(everyMilliseconds milliseconds: Int64) async {
        var reported = (published: 0, errors: 0)
        while !Task.isCancelled {
            if let status = try? await OutboxStatus.read(from: database) {
                pendingRows.record(status.pendingRows)
                oldestPendingAge.record(status.oldestPendingAgeMilliseconds)
            }
            let statistics = relay.statistics
            publishedPerSecond.record(statistics.publishedRowsPerSecond)
            published.increment(by: Int64(statistics.publishedRows - reported.published))
            errors.increment(by: Int64(statistics.errors - reported.errors))
            reported = (statistics.publishedRows, statistics.errors)
            try? await Task.sleep(for: .milliseconds(milliseconds))
        }
    }
}
