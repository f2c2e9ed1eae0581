import Foundation
import GRDB
import StreamStore

/// Publishes the rows of an outbox to the store's topics: oldest first, in batches, and deletes
/// each row once its record is durable (docs/OUTBOX.md, "The relay").
///
/// ```swift
/// let relay = try OutboxRelay(database: dbQueue, store: store)
/// let relaying = Task { try await relay.run() }     // until cancelled
/// ...
/// relaying.cancel()
/// ```
///
/// - **Order.** Rows are read in `id` order, which is commit order; the rows of one partition
///   go out as one batch in that order, and a row is never published before an earlier row of
///   its partition. So the events of one key come out in commit order.
/// - **Durability.** A row is deleted only after its append returned and, for a topic whose
///   flush policy is not `.everyAppend`, after a flush of the topic.
/// - **Exactly once in the topic.** A crash after an append and before the deletion publishes
///   the row again after the restart. The row's `message-id` is the same, and the relay only
///   publishes to topics with a de-duplication window (``OutboxError/Code/dedupeWindowMissing``
///   otherwise), so the second copy is dropped by the store. The window must be longer than
///   a relay may stay down.
/// - **Waking.** Commits through `database` that insert outbox rows wake the relay at once
///   (GRDB's transaction observation); rows written by other processes are found by a poll
///   every ``Options/pollMilliseconds``.
/// - **Errors.** A failed pass is counted (``Statistics/errors``), kept in the database's relay
///   row for `stream-tool outbox status`, and retried after a backoff that doubles up to
///   ``Options/maxBackoffMilliseconds``. A partition whose append failed keeps the rows that are
///   not durable (all of them, or those after a batch that went when large rows needed several);
///   the other partitions go on.
///
/// Run one relay per outbox: two would both publish every row (the window drops the copies,
/// but the order between them is lost).
public final class OutboxRelay: Sendable {
    /// How the relay reads, waits and creates topics.
    public struct Options: Sendable {
        /// Rows read and published per pass, at most ``/StreamStoreFormat/Limits/maxOutboxBatchRows``.
        public var batchRows: Int
        /// How often the relay looks for rows that no commit of this process announced (rows
        /// written by other processes).
        public var pollMilliseconds: Int64
        /// The first wait after a failed pass; it doubles after each failure in a row.
        public var initialBackoffMilliseconds: Int64
        /// The longest wait after failures.
        public var maxBackoffMilliseconds: Int64
        /// The config of a topic the relay creates because a row names a topic the store lacks.
        /// It must have a de-duplication window.
        public var newTopicConfig: TopicConfig
        /// Told of every failed pass (to log it); the relay retries by itself.
        public var onError: (@Sendable (any Error) -> Void)?

        /// Options with every setting given or at its default: batches of 1,000 rows, a poll
        /// every 100 ms, backoff from 10 ms to 5 s, new topics with one partition and a one-day
        /// de-duplication window.
        public init(
            batchRows: Int = 1000, pollMilliseconds: Int64 = 100, initialBackoffMilliseconds: Int64 = 10,
            maxBackoffMilliseconds: Int64 = 5000, newTopicConfig: TopicConfig = TopicConfig(dedupeWindowMilliseconds: 86_400_000),
            onError: (@Sendable (any Error) -> Void)? = nil
        ) {
            self.batchRows = batchRows
            self.pollMilliseconds = pollMilliseconds
            self.initialBackoffMilliseconds = initialBackoffMilliseconds
            self.maxBackoffMilliseconds = maxBackoffMilliseconds
            self.newTopicConfig = newTopicConfig
            self.onError = onError
        }

        func validate() throws(OutboxError) {
            guard (1...Limits.maxOutboxBatchRows).contains(batchRows) else {
                throw OutboxError(.invalidOption, "batchRows is \(batchRows); use 1 to \(Limits.maxOutboxBatchRows).")
            }
            guard pollMilliseconds > 0, initialBackoffMilliseconds > 0, maxBackoffMilliseconds >= initialBackoffMilliseconds else {
                throw OutboxError(.invalidOption, "pollMilliseconds and initialBackoffMilliseconds must be positive, and maxBackoffMilliseconds at least initialBackoffMilliseconds.")
            }
            guard newTopicConfig.dedupeWindowMilliseconds != nil else {
                throw OutboxError(.dedupeWindowMissing, "newTopicConfig has no dedupeWindowMilliseconds; the relay's topics need one.")
            }
        }
    }

    let database: any DatabaseWriter
    let store: Store
    let options: Options
    let clock: any StoreClock
    let wakeup = RelayWakeup()
    private let observer: OutboxInsertObserver
    let counters: Locked<RelayCounters>
    let topics = Locked<[String: Topic]>([:])

    /// A relay from `database`'s outbox into `store`. Installs the transaction observer that
    /// wakes it (GRDB holds it weakly: it goes with the relay); publishes nothing until
    /// ``run()`` or ``publishPending()``.
    public init(database: any DatabaseWriter, store: Store, options: Options = Options(), clock: any StoreClock = SystemClock()) throws {
        try options.validate()
        self.database = database
        self.store = store
        self.options = options
        self.clock = clock
        self.counters = Locked(RelayCounters(startedAtMilliseconds: clock.nowMilliseconds()))
        observer = OutboxInsertObserver(wakeup: wakeup)
        database.add(transactionObserver: observer, extent: .observerLifetime)
    }

    /// Publishes rows until the task is cancelled: every pending row at once, then each new one
    /// as its transaction commits (or, for other processes' rows, within a poll). Failures are
    /// retried with backoff; the call returns only when cancelled.
    public func run() async {
        var backoff = options.initialBackoffMilliseconds
        while !Task.isCancelled {
            do {
                let published = try await publishBatch()
                backoff = options.initialBackoffMilliseconds
                if published < options.batchRows { await wakeup.wait(milliseconds: options.pollMilliseconds) }
            } catch {
                guard !Task.isCancelled else { return }
                await recordFailure(error)
                try? await Task.sleep(for: .milliseconds(backoff))
                backoff = min(backoff * 2, options.maxBackoffMilliseconds)
            }
        }
    }

    /// Publishes every row pending now, batch by batch, and returns how many; throws at the
    /// first failed batch (the rows of partitions that succeeded are already deleted).
    @discardableResult
    public func publishPending() async throws -> Int {
        var total = 0
        while true {
            let published: Int
            do {
                published = try await publishBatch()
            } catch {
                await recordFailure(error)
                throw error
            }
            total += published
            if published < options.batchRows { return total }
        }
    }

    /// What the relay has done since it was made.
    public var statistics: Statistics {
        counters.withLock { $0.statistics(now: clock.nowMilliseconds()) }
    }

    /// One pass: reads up to `batchRows` rows, appends them per partition (partitions in
    /// parallel), waits until they are durable, deletes them. Returns the rows read.
    func publishBatch() async throws -> Int {
        let limit = options.batchRows
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT \(OutboxRow.columns) FROM \(OutboxSchema.outboxTable) ORDER BY id LIMIT ?", arguments: [limit])
                .map { OutboxRow(row: $0) }
        }
        guard let last = rows.last else { return 0 }
        let groups = try partitionGroups(rows)
        let outcomes: [Published]
        if groups.count == 1 {
            // One partition (the common case): no child task, so no hop to another thread.
            outcomes = [await Self.publish(groups[0])]
        } else {
            outcomes = await withTaskGroup(of: (Int, Published).self) { group in
                for (index, target) in groups.enumerated() {
                    group.addTask { (index, await Self.publish(target)) }
                }
                var outcomes = [Published](repeating: Published(durableRows: 0, failure: nil), count: groups.count)
                for await (index, outcome) in group { outcomes[index] = outcome }
                return outcomes
            }
        }
        let failures = outcomes.compactMap(\.failure)
        // A row is deleted exactly when its record is durable: every row when all went, else
        // each target's durable prefix (a target that failed part-way keeps the rest).
        let publishedIDs = failures.isEmpty ? [] : zip(groups, outcomes).flatMap { target, outcome -> ArraySlice<Int64> in
            target.rowIDs.prefix(outcome.durableRows)
        }
        let count = failures.isEmpty ? rows.count : publishedIDs.count
        let now = clock.nowMilliseconds()
        if count > 0 {
            let lastID = last.id
            try await database.write { db in
                if failures.isEmpty {
                    // Every row up to the last one read was read (ids are commit order), so a
                    // range deletes exactly them.
                    try db.execute(sql: "DELETE FROM \(OutboxSchema.outboxTable) WHERE id <= ?", arguments: [lastID])
                } else {
                    for chunk in stride(from: 0, to: publishedIDs.count, by: 500) {
                        let ids = publishedIDs[chunk..<min(chunk + 500, publishedIDs.count)]
                        try db.execute(
                            sql: "DELETE FROM \(OutboxSchema.outboxTable) WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                            arguments: StatementArguments(Array(ids)))
                    }
                }
                try db.execute(
                    sql: """
                        INSERT INTO \(OutboxSchema.relayTable) (id, published_rows, last_published_at_ms) VALUES (1, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET published_rows = published_rows + excluded.published_rows,
                        last_published_at_ms = excluded.last_published_at_ms
                        """,
                    arguments: [count, now])
            }
            let latencies = rows.map { now - $0.createdAtMilliseconds }
            counters.withLock { $0.published(count, at: now, commitToPublishMilliseconds: latencies) }
        }
        if let failure = failures.first { throw failure }
        return rows.count
    }

    private func recordFailure(_ error: any Error) async {
        let now = clock.nowMilliseconds()
        counters.withLock { $0.failed(error, at: now) }
        options.onError?(error)
        let text = "\(error)"
        // Best effort: the database itself may be what failed.
        _ = try? await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO \(OutboxSchema.relayTable) (id, errors, last_error, last_error_at_ms) VALUES (1, 1, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET errors = errors + 1, last_error = excluded.last_error,
                    last_error_at_ms = excluded.last_error_at_ms
                    """,
                arguments: [text, now])
        }
    }
}
