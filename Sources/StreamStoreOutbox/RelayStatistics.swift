import StreamStore

extension OutboxRelay {
    /// What a relay has done since it was made (``OutboxRelay/statistics``); what is pending is
    /// in the database (``OutboxStatus``).
    public struct Statistics: Sendable, Equatable {
        /// Rows published (and deleted).
        public var publishedRows: Int
        /// Rows published per second over about the last ``OutboxRelay/Statistics/rateWindowMilliseconds``.
        public var publishedRowsPerSecond: Double
        /// Passes that failed.
        public var errors: Int
        /// The last failure, described.
        public var lastError: String?
        /// When the last row was published, in milliseconds since the epoch.
        public var lastPublishedAtMilliseconds: Int64?
        /// Time from a row's commit (its `created_at_ms`) to its record being durable, for the
        /// most recent rows (up to ``OutboxRelay/Statistics/latencySamples``), in milliseconds;
        /// nil before the first row. Rows written by another process's clock count as written.
        public var commitToPublishP50Milliseconds: Int64?
        /// The 99th percentile of the same.
        public var commitToPublishP99Milliseconds: Int64?

        /// The span the rate is measured over.
        public static let rateWindowMilliseconds: Int64 = 5000
        /// How many recent rows the latency percentiles come from.
        public static let latencySamples = 4096
    }
}

/// The relay's running counts, behind its lock.
struct RelayCounters {
    var startedAtMilliseconds: Int64
    var publishedRows = 0
    var errors = 0
    var lastError: String?
    var lastPublishedAtMilliseconds: Int64?
    /// (time, rows published then), oldest first, kept for ``OutboxRelay/Statistics/rateWindowMilliseconds``.
    var recent: [(at: Int64, rows: Int)] = []
    /// A ring of the latest commit-to-publish times.
    var latencies: [Int64] = []
    var nextLatency = 0

    init(startedAtMilliseconds: Int64) {
        self.startedAtMilliseconds = startedAtMilliseconds
    }

    mutating func published(_ count: Int, at now: Int64, commitToPublishMilliseconds: [Int64]) {
        publishedRows += count
        lastPublishedAtMilliseconds = now
        recent.append((now, count))
        let cutoff = now - OutboxRelay.Statistics.rateWindowMilliseconds
        if let keep = recent.firstIndex(where: { $0.at >= cutoff }), keep > 0 { recent.removeFirst(keep) }
        for latency in commitToPublishMilliseconds.suffix(OutboxRelay.Statistics.latencySamples) {
            if latencies.count < OutboxRelay.Statistics.latencySamples {
                latencies.append(max(0, latency))
            } else {
                latencies[nextLatency] = max(0, latency)
                nextLatency = (nextLatency + 1) % latencies.count
            }
        }
    }

    mutating func failed(_ error: any Error, at now: Int64) {
        errors += 1
        lastError = "\(error)"
    }

    func statistics(now: Int64) -> OutboxRelay.Statistics {
        let cutoff = now - OutboxRelay.Statistics.rateWindowMilliseconds
        let inWindow = recent.filter { $0.at >= cutoff }.reduce(0) { $0 + $1.rows }
        let span = max(1, min(OutboxRelay.Statistics.rateWindowMilliseconds, now - startedAtMilliseconds))
        let sorted = latencies.sorted()
        func percentile(_ fraction: Double) -> Int64? {
            sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
        }
        return OutboxRelay.Statistics(
            publishedRows: publishedRows, publishedRowsPerSecond: Double(inWindow) * 1000 / Double(span), errors: errors, lastError: lastError,
            lastPublishedAtMilliseconds: lastPublishedAtMilliseconds, commitToPublishP50Milliseconds: percentile(0.5),
            commitToPublishP99Milliseconds: percentile(0.99))
    }
}
