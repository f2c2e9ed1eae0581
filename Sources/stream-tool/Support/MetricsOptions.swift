import ArgumentParser
import CoreMetrics
import Prometheus

/// `--metrics-port` and `--metrics-host`, for the commands that run long (`replay`, `produce`,
/// `bench`): while the command runs, the store's metrics (README, "Metrics and logging") are
/// served for Prometheus at `http://HOST:PORT/metrics`.
struct MetricsOptions: ParsableArguments {
    /// Anything that listens binds to the loopback address unless told otherwise: metrics describe
    /// the store's contents, and nothing off this machine should reach them uninvited.
    static let defaultHost = "127.0.0.1"

    @Option(
        name: .customLong("metrics-port"),
        help: ArgumentHelp(
            "Serve the store's metrics for Prometheus at http://HOST:PORT/metrics while the command runs (0: any free port; stderr says which).",
            valueName: "PORT"))
    var metricsPort: Int?

    @Option(
        name: .customLong("metrics-host"),
        help: ArgumentHelp("The address --metrics-port listens on; the default is reachable from this machine only.", valueName: "HOST"))
    var metricsHost: String = Self.defaultHost

    func validate() throws {
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be between 0 and 65535, not \(metricsPort).")
        }
    }

    /// With `--metrics-port`: makes the Prometheus registry the process's metrics backend
    /// (every store opened afterwards reports into it), starts serving it, and says where on
    /// stderr. Without: nil, and nothing is measured.
    func startServing() throws(ToolError) -> MetricsServer? {
        guard let metricsPort else { return nil }
        let registry = PrometheusCollectorRegistry()
        let server = try MetricsServer.start(host: metricsHost, port: metricsPort, registry: registry)
        var factory = PrometheusMetricsFactory(registry: registry)
        // An fsync takes about a quarter of a millisecond here: the default buckets (from 5 ms)
        // would put nearly all of them in the first.
        factory.durationHistogramBuckets["streamstore_fsync_duration_seconds"] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        // The Kafka server's produce answers take about a millisecond (an fsync and the network).
        factory.durationHistogramBuckets["streamstore_kafka_request_duration_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        StandardError.line("note: serving metrics at http://\(MetricsServer.displayHost(metricsHost)):\(server.port)/metrics")
        return server
    }
}
