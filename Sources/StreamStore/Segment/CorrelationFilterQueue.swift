import Dispatch

/// Builds the correlation filters of freshly sealed segments, one at a time for the whole store,
/// on a background queue: the append path only hands the sealed segment over (a roll), so it
/// pays nothing for the scan.
///
/// A build reads the segment's log as it is in the page cache right after the roll, writes its
/// `.cfilter` atomically, and gives up on any error (logged): a filter is only a cache, and a
/// segment without one is scanned by traces, which then write it themselves. ``stop()`` (at
/// close) drops the builds not started and stops the running one at its next batch, so closing
/// never waits for a whole segment's scan.
final class CorrelationFilterQueue: @unchecked Sendable {
    /// False when the store was opened with ``Store/Options/usesCorrelationFilters`` off: nothing
    /// is built, read or written.
    let isEnabled: Bool
    private let queue = DispatchQueue(label: "streamstore.correlation-filters", qos: .utility)
    private let stopped = Locked(false)
    /// Used only on `queue`.
    private let decompressor = ZstdDecompressor()

    init(isEnabled: Bool) {
        self.isEnabled = isEnabled
    }

    private var isStopped: Bool { stopped.withLock { $0 } }

    /// Builds `segment`'s filter soon, unless a valid one is there by then.
    func schedule(_ segment: Segment) {
        guard isEnabled, !isStopped else { return }
        queue.async { [self] in
            guard !isStopped else { return }
            build(segment)
        }
    }

    /// No more builds; waits until the running one (if any) has stopped.
    func stop() {
        stopped.withLock { $0 = true }
        queue.sync {}
    }

    /// Waits until every build scheduled so far has run (tests and benchmarks).
    func waitUntilIdle() {
        queue.sync {}
    }

    private func build(_ segment: Segment) {
        do throws(StreamStoreError) {
            guard let binding = try segment.sealedBinding() else { return }
            if case .usable = segment.loadCorrelationFilter(binding: binding).lookup { return }
            let (outcome, filter) = try segment.scanCorrelations(
                to: binding.logBytes, decompressor: decompressor, building: binding, shouldContinue: { !isStopped }) { _ in }
            guard let filter else {
                if case .stopped = outcome.stop { return }
                segment.context.logger.warning(
                    "No correlation filter for \(segment.logPath): \(outcome.problems.first ?? outcome.stop.sentence). Traces scan this segment; run `stream-tool verify`.")
                return
            }
            try segment.writeCorrelationFilter(filter)
        } catch {
            segment.context.logger.warning("Could not build the correlation filter of \(segment.logPath): \(error). Traces scan this segment until one is written.")
        }
    }
}
