import StreamStoreFormat
import CStreamStoreShims
import Foundation

/// Builds the correlation filters of freshly sealed segments, one at a time for the whole store,
/// on a thread of its own at the lowest priority (nice 19) that works at most a quarter of the
/// time (``dutyCycle``): the append path only hands the sealed segment over (a roll), and the
/// scan runs beside it. A build costs about 1.4 s of CPU per GiB of log (the scan reads and
/// checks every batch and hashes every id), more than appending it did; unthrottled, it took
/// 15-20% off a saturated appender on this 2-core machine even at nice 19 (the two share the
/// memory bus and caches), throttled 0-5%. Under sustained appends faster than builds, filters
/// lag behind; traces scan the segments still without one and write their filters.
///
/// A build reads the segment's log as it is in the page cache right after the roll (through a
/// descriptor of its own, holding no lock of the engine while it scans, so a starved build never
/// holds up an append), writes its `.cfilter` atomically, and gives up on any error (logged): a
/// filter is only a cache, and a segment without one is scanned by traces, which then write it
/// themselves. ``stop()`` (at close) drops the builds not started and stops the running one at
/// its next batch, so closing never waits for a whole segment's scan.
package final class CorrelationFilterQueue: @unchecked Sendable {
    /// False when the store was opened with ``Store/Options/usesCorrelationFilters`` off: nothing
    /// is built, read or written.
    package let isEnabled: Bool
    /// Guards everything below.
    private let condition = NSCondition()
    private var pending: [Segment] = []
    private var isStopped = false
    private var isBuilding = false
    private var threadState = ThreadState.notStarted
    /// When the running build last started working after a pause.
    private var workStart = ContinuousClock.now

    /// The share of time a build works: after each stretch of work it pauses for three times as
    /// long, which bounds what it takes from appenders and readers to about a quarter of a core.
    static let dutyCycle = 0.25
    /// How long a stretch of work lasts before its pause.
    static let workStretch = Duration.milliseconds(10)

    private enum ThreadState {
        case notStarted, running, finished
    }

    package init(isEnabled: Bool) {
        self.isEnabled = isEnabled
    }

    /// Builds `segment`'s filter soon, unless a valid one is there by then. The thread starts
    /// with the first segment a store seals.
    func schedule(_ segment: Segment) {
        guard isEnabled else { return }
        condition.withLock {
            guard !isStopped else { return }
            pending.append(segment)
            if threadState == .notStarted {
                threadState = .running
                let thread = Thread { [self] in run() }
                thread.name = "streamstore.correlation-filters"
                thread.start()
            }
            condition.broadcast()
        }
    }

    /// No more builds; waits until the running one (if any) has stopped.
    package func stop() {
        condition.withLock {
            isStopped = true
            pending.removeAll()
            condition.broadcast()
            while threadState == .running { condition.wait() }
        }
    }

    /// Waits until every build scheduled so far has run (tests and benchmarks).
    func waitUntilIdle() {
        condition.withLock {
            while !isStopped && (!pending.isEmpty || isBuilding) { condition.wait() }
        }
    }

    /// Asked before each batch of a build: pauses after each stretch of work (waking at once when
    /// stopped), and says whether to go on.
    private func shouldContinue() -> Bool {
        condition.withLock {
            let worked = workStart.duration(to: .now)
            if worked >= Self.workStretch {
                let pause = worked * ((1 - Self.dutyCycle) / Self.dutyCycle)
                let until = Date(timeIntervalSinceNow: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
                while !isStopped && condition.wait(until: until) {}
                workStart = .now
            }
            return !isStopped
        }
    }

    private func run() {
        _ = ss_lower_thread_priority()
        let decompressor = ZstdDecompressor()
        while let segment = next() {
            build(segment, decompressor: decompressor)
            condition.withLock {
                isBuilding = false
                condition.broadcast()
            }
        }
    }

    /// The next segment to build, waiting for one; nil once stopped (the thread then ends).
    private func next() -> Segment? {
        condition.withLock {
            while pending.isEmpty && !isStopped { condition.wait() }
            guard !isStopped else {
                threadState = .finished
                condition.broadcast()
                return nil
            }
            isBuilding = true
            workStart = .now
            return pending.removeFirst()
        }
    }

    private func build(_ segment: Segment, decompressor: ZstdDecompressor) {
        do throws(StreamStoreError) {
            guard let binding = try segment.sealedBinding() else { return }
            if case .usable = segment.loadCorrelationFilter(binding: binding).lookup { return }
            let log = try File.open(segment.logPath, create: false, readOnly: true, fileSystem: segment.environment.fileSystem)
            let (outcome, filter) = try segment.scanCorrelations(
                log: log, to: binding.logBytes, decompressor: decompressor, building: binding, shouldContinue: shouldContinue
            ) { _ in }
            guard let filter else {
                if case .stopped = outcome.stop { return }
                segment.environment.logger.warning(
                    "No correlation filter for \(segment.logPath): \(outcome.problems.first ?? outcome.stop.sentence). Traces scan this segment.")
                return
            }
            try segment.writeCorrelationFilter(filter)
        } catch where error.code == .io(errno: ENOENT) {
            // Retention deleted the segment before its build began.
            return
        } catch {
            segment.environment.logger.warning("Could not build the correlation filter of \(segment.logPath): \(error). Traces scan this segment until one is written.")
        }
    }
}
