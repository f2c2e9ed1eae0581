import StreamStore

/// One `replay` from start to finish: the store opened read-only (so a writer may be appending
/// meanwhile), each partition read with the engine's ``Topic/replayBatches(partitions:options:)``
/// up to its log end as it was when the pass began; with `--follow`, pass after pass, sleeping
/// between them until the writer publishes more (the store wakes it; no polling).
struct ReplayRun {
    /// A pass with records still to read yields after this long, so commits and the progress
    /// line keep up while a large backlog is printed.
    static let followPassMilliseconds: Int64 = 250

    /// How a pass ended.
    enum SessionEnd {
        /// Every partition is at its log end: wait for appends.
        case caughtUp
        /// The pass used its time with records still to read: go on.
        case paused
        /// The limit, every partition's stop, or an interruption: the replay is over.
        case done
    }

    let plan: ReplayPlan
    let storeOptions: StoreOptions
    private var printer: ReplayPrinter
    /// The partitions replayed, in order; known after the first pass.
    private var partitions: [Int] = []
    /// Per partition, the next offset to print.
    private var positions: [Int: Int64] = [:]
    /// ``positions`` as of the last flush of stdout: what was really printed.
    private var delivered: [Int: Int64] = [:]
    /// Partitions past their stop (`--until-offset`, `--until-time`).
    private var finished: Set<Int> = []
    private var commits: ReplayCommits?
    private let progress: ProgressLine
    private let stopwatch = Stopwatch()

    init(plan: ReplayPlan, storeOptions: StoreOptions) {
        self.plan = plan
        self.storeOptions = storeOptions
        printer = ReplayPrinter(topicName: plan.topic, format: plan.format, limit: plan.limit, untilTimestamp: plan.untilTimestamp)
        // Following has no total to show, and usually prints to a terminal.
        progress = plan.follow ? ProgressLine(enabled: false) : ProgressLine.besideStreamedOutput()
    }

    mutating func run() async throws {
        printer.writeTitles()
        defer { progress.finish() }
        let store = try storeOptions.openReadOnlyStore()
        do {
            if plan.follow {
                try await follow(store)
            } else {
                _ = try await read(store, budgetMilliseconds: nil)
            }
        } catch {
            try? store.close()
            throw error
        }
        try store.close()
    }

    /// Passes until the replay is done or the task is cancelled (by a signal); between passes
    /// that caught up, sleeps until some partition's log end passes its position.
    private mutating func follow(_ store: Store) async throws {
        do {
            while !Task.isCancelled {
                switch try await read(store, budgetMilliseconds: Self.followPassMilliseconds) {
                case .done: return
                case .paused: continue
                case .caughtUp: try await waitForAppends(store)
                }
            }
        } catch is CancellationError {
            // Interrupted between passes: everything printed is flushed and committed.
        }
    }

    /// Returns once a partition still being followed has records past its position, or the task
    /// is cancelled.
    private func waitForAppends(_ store: Store) async throws {
        let topic = try store.topic(plan.topic)
        let wakeup = Wakeup()
        let waiting = try partitions.filter { !finished.contains($0) }.map { (index) throws(StreamStoreError) in try topic.partition(index) }
        for partition in waiting { partition.notify(wakeup, whenEndPasses: positions[partition.id] ?? 0) }
        defer { for partition in waiting { partition.cancelNotify(wakeup) } }
        await wakeup.wait()
        try Task.checkCancellation()
    }

    /// Where the session reads `partition` next; `start(topic:group:)` set one for each.
    private func position(of partition: Int) -> Int64 {
        guard let position = positions[partition] else { preconditionFailure("partition \(partition) was read before start placed it") }
        return position
    }

    private mutating func read(_ store: Store, budgetMilliseconds: Int64?) async throws -> SessionEnd {
        let topic = try store.topic(plan.topic)
        // Only --commit makes a group; reading a group's offsets needs one that exists.
        let group = try plan.group.map { (name) throws(StreamStoreError) in try store.group(name, createIfMissing: plan.commit) }
        if partitions.isEmpty { try start(topic: topic, group: group) }
        // Up to the log end as it is now: a session has an end even while appends go on.
        var ends: [(partition: Int, endOffset: Int64)] = []
        for partition in partitions {
            ends.append((partition, min(try topic.logEndOffset(partition: partition), plan.untilOffset ?? Int64.max)))
        }
        let total = ends.reduce(Int64(0)) { $0 + max(0, $1.endOffset - position(of: $1.partition)) }
        let sessionClock = Stopwatch()
        var end = SessionEnd.caughtUp
        do {
            partitionLoop: for (partition, endOffset) in ends where !finished.contains(partition) {
                if position(of: partition) < endOffset {
                    let options = ReplayOptions(from: .offset(position(of: partition)), until: .offset(endOffset))
                    for try await batch in topic.replayBatches(partitions: [partition], options: options) {
                        let progress = try printer.write(batch, partition: partition, from: position(of: partition), below: endOffset)
                        positions[partition] = progress.nextOffset
                        if progress.reachedUntilTime { finished.insert(partition) }
                        if progress.reachedUntilTime || printer.limitReached { break }
                        try await flushAndCommitIfDue(group)
                        showProgress(total: total)
                        if let budgetMilliseconds, sessionClock.elapsedSeconds * 1000 >= Double(budgetMilliseconds) {
                            end = .paused
                            break partitionLoop
                        }
                    }
                }
                if let untilOffset = plan.untilOffset, position(of: partition) >= untilOffset { finished.insert(partition) }
                if printer.limitReached { break }
            }
        } catch {
            // What was read before a failure (a corrupt batch, say) is still printed, and
            // committed. A closed stdout took the buffer with it: that is not delivered.
            progress.finish()
            if !(error is OutputClosed) { try? flush() }
            if let group { try? await commit(group) }
            throw error
        }
        progress.finish()
        do {
            try flush()
        } catch {
            if let group { try? await commit(group) }
            throw error
        }
        if let group { try await commit(group) }
        if printer.limitReached || finished.count == partitions.count || Task.isCancelled { return .done }
        return end
    }

    /// The first session: which partitions, and where each starts.
    private mutating func start(topic: Topic, group: ConsumerGroup?) throws(StreamStoreError) {
        if let partition = plan.partition {
            _ = try topic.logEndOffset(partition: partition)  // throws `.partitionOutOfRange`
            partitions = [partition]
        } else {
            partitions = Array(0..<topic.partitionCount)
        }
        let committed = try group?.committedOffsets(topic: topic.name) ?? [:]
        if let group, plan.commit {
            commits = ReplayCommits(groupName: group.name, topicName: topic.name, committed: committed)
        }
        for partition in partitions {
            let logStart = try topic.logStartOffset(partition: partition)
            let logEnd = try topic.logEndOffset(partition: partition)
            if let offset = committed[partition] {
                // As the library's consumers do: a committed offset retention removed, or one
                // past a log end that lost its tail, starts again at the log start.
                positions[partition] = (logStart...logEnd).contains(offset) ? offset : logStart
            } else {
                positions[partition] = try startOffset(partition: partition, logStart: logStart, logEnd: logEnd, topic: topic)
            }
        }
        delivered = positions
    }

    /// Where `--from-*` starts a partition. With one named partition, an offset outside its
    /// log is an error; across all partitions the same offset is simply past the end of the
    /// shorter ones.
    private func startOffset(partition: Int, logStart: Int64, logEnd: Int64, topic: Topic) throws(StreamStoreError) -> Int64 {
        switch plan.start {
        case .offset(let offset) where plan.partition == nil:
            return min(max(offset, logStart), logEnd)
        case .offset(let offset) where offset < logStart || offset > logEnd:
            throw StreamStoreError(
                .offsetOutOfRange,
                "Offset \(offset) is not in partition \(partition), which runs from offset \(logStart) to its log end offset \(logEnd); pick one in between, or use --from-beginning.",
                topic: topic.name, partition: partition)
        default:
            return try topic.offset(partition: partition, for: plan.start)
        }
    }

    // MARK: Output and commits

    /// Writes out the buffered records; they are then delivered. When the write fails the
    /// buffer is dropped and ``delivered`` stays as it was.
    private mutating func flush() throws {
        try printer.output.flush()
        delivered = positions
    }

    private mutating func flushAndCommitIfDue(_ group: ConsumerGroup?) async throws {
        if printer.output.isMostlyFull {
            progress.finish()
            try flush()
        }
        guard let group, let commits, commits.isDue(printed: printer.printed) else { return }
        try flush()
        try await commit(group)
    }

    private mutating func commit(_ group: ConsumerGroup) async throws(StreamStoreError) {
        guard var commits else { return }
        defer { self.commits = commits }
        try await commits.commit(delivered, to: group, printed: printer.printed)
    }

    private func showProgress(total: Int64) {
        let done = Int64(printer.printed)
        let limited = plan.limit.map { min(total, Int64($0)) } ?? total
        progress.update { "replaying \(plan.topic): " + ProgressText.count(done, of: limited, unit: "records", seconds: stopwatch.elapsedSeconds) }
    }
}
