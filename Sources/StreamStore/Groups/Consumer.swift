import StreamStoreFormat
import StreamStoreLog
/// How a ``Consumer`` starts and reads.
public struct ConsumerOptions: Sendable, Equatable {
    /// Where a partition the group never committed starts: `.earliest` (the default) from the
    /// log start, `.latest` from the log end. Also applied when a committed offset is out of
    /// range (retention removed it); `.fail` makes that an error instead.
    public var resetPolicy: OffsetResetPolicy
    /// How many bytes of batches one read of a partition takes at most.
    public var maxBytesPerRead: Int
    /// When the consumer commits on its own what ``Consumer/records`` processed (default
    /// ``CommitPolicy/manual``: only explicit commits).
    public var commitPolicy: CommitPolicy

    /// Options with the given reset policy, read size and commit policy (defaults: the log
    /// start, 1 MiB, manual commits).
    public init(resetPolicy: OffsetResetPolicy = .earliest, maxBytesPerRead: Int = 1 << 20, commitPolicy: CommitPolicy = .manual) {
        self.resetPolicy = resetPolicy
        self.maxBytesPerRead = maxBytesPerRead
        self.commitPolicy = commitPolicy
    }
}

/// A member of a consumer group reading one topic: from ``Store/consumer(group:topic:options:)``.
///
/// ```swift
/// let billing = try store.consumer(group: "billing", topic: "orders")
/// for try await record in billing.records {
///     try await handle(record)
///     try await billing.commit(record)
/// }
/// ```
/// Several consumers of the same group and topic share its partitions: each partition is read
/// by one member at a time, and members joining or leaving move partitions between them,
/// only between records. A member starts each partition at the group's committed offset, so
/// records handled but not committed before a crash or a reassignment are delivered again:
/// at-least-once. Make handlers idempotent.
///
/// Members in other processes share the partitions too (each process's members are one member
/// of the group on disk, README "Consumer groups across processes").
///
/// ``records`` waits for new records at the log end (live tailing); it ends when the task is
/// cancelled, the consumer is closed or its store closes. Iterate it from one task only.
public final class Consumer: Sendable {
    /// The group this consumer is a member of; its commits are the group's.
    public let group: ConsumerGroup
    /// The topic this consumer reads.
    public let topic: Topic
    /// How this consumer starts and reads.
    public let options: ConsumerOptions
    let coordinator: GroupCoordinator
    let member: GroupCoordinator.MemberID
    private let closed = Locked(false)
    /// What the records loop processed and an automatic commit has not yet covered.
    let autoCommit = Locked(AutoCommitState())
    let clock: any StoreClock

    init(group: ConsumerGroup, topic: Topic, options: ConsumerOptions) throws(StreamStoreError) {
        try options.commitPolicy.validate()
        clock = topic.clock
        self.group = group
        self.topic = topic
        self.options = options
        coordinator = try group.coordinator(for: topic)
        member = try coordinator.join()
    }

    deinit { coordinator.leave(member) }

    /// The records of the partitions assigned to this member, as they come.
    public var records: ConsumerRecords { ConsumerRecords(consumer: self, until: nil) }

    /// The records of the member's partitions up to `stop`, then the sequence ends (after an
    /// automatic commit, under an automatic ``CommitPolicy``): for batch jobs that process
    /// what is there and exit. A member that owns no partition ends at once.
    public func records(until stop: ConsumerStop) -> ConsumerRecords { ConsumerRecords(consumer: self, until: stop) }

    /// The partitions this member owns now.
    public var assignedPartitions: [Int] { coordinator.owned(by: member) }

    /// Commits `record` as processed: its partition's next offset becomes `record.offset + 1`.
    /// Throws `.partitionNotAssigned` when the partition moved to another member meanwhile
    /// (that member delivers the record again).
    public func commit(_ record: StoredRecord) async throws(StreamStoreError) {
        try await commit(partition: record.partition, nextOffset: record.offset + 1)
    }

    /// Commits next offsets for several of this member's partitions as one frame (one fsync
    /// under `.everyAppend`): all of them, or, when any partition moved to another member, none
    /// (`.partitionNotAssigned` naming it).
    public func commit(offsets: [Int: Int64]) async throws(StreamStoreError) {
        let notOwned = try commitOwned(offsets, requireAll: true)
        if let partition = notOwned.min() { throw notAssigned(partition) }
    }

    /// Commits the owned partitions of `offsets` (all or, with `requireAll`, none when one is
    /// not owned) while holding them; returns the partitions that were not owned.
    func commitOwned(_ offsets: [Int: Int64], requireAll: Bool) throws(StreamStoreError) -> [Int] {
        guard !offsets.isEmpty else { return [] }
        let (group, topic) = (group, topic)
        return try coordinator.whileOwning(member, partitions: Array(offsets.keys), requireAll: requireAll) { (owned) throws(StreamStoreError) in
            try group.commitNow(topic: topic.name, offsets: offsets.filter { owned.contains($0.key) })
        }
    }

    /// Commits what the records loop processed since the last automatic commit; offsets of
    /// partitions that moved to another member are dropped (it delivers them again).
    func commitProcessed() throws(StreamStoreError) {
        let now = clock.nowMilliseconds()
        let offsets = autoCommit.withLock { state in
            defer {
                state.processed = [:]
                state.sinceCommit = 0
                state.lastCommitMilliseconds = now
            }
            return state.processed
        }
        do throws(StreamStoreError) {
            _ = try commitOwned(offsets, requireAll: false)
        } catch {
            // Kept for the next commit: a later offset of the same partition wins.
            autoCommit.withLock { state in state.processed.merge(offsets) { max($0, $1) } }
            throw error
        }
    }

    /// Notes the record at `offset` of `partition` as processed; true when the policy's count or
    /// interval says to commit now.
    func markProcessed(partition: Int, offset: Int64) -> Bool {
        let policy = options.commitPolicy
        let now = clock.nowMilliseconds()
        return autoCommit.withLock { state in
            state.processed[partition] = offset + 1
            state.sinceCommit += 1
            if state.lastCommitMilliseconds == 0 { state.lastCommitMilliseconds = now }
            if let every = policy.everyRecords, state.sinceCommit >= every { return true }
            if let every = policy.everyMilliseconds, now - state.lastCommitMilliseconds >= every { return true }
            return false
        }
    }

    /// Whether anything processed awaits an automatic commit.
    var hasUncommitted: Bool { autoCommit.withLock { !$0.processed.isEmpty } }

    /// Forgets processed offsets of partitions this member no longer owns.
    func dropUncommitted(of partitions: Set<Int>) {
        autoCommit.withLock { state in state.processed = state.processed.filter { !partitions.contains($0.key) } }
    }

    private func notAssigned(_ partition: Int) -> StreamStoreError {
        StreamStoreError(
            .partitionNotAssigned,
            "Partition \(partition) of \(quoted(topic.name)) is not assigned to this consumer of group \(quoted(group.name)) any more; its new owner continues from the last commit.",
            topic: topic.name, partition: partition)
    }

    /// Commits a next offset for one of this member's partitions.
    ///
    /// The check and the commit are one step: the partition cannot move to another member (of
    /// this process or another) while its commit is being written, so a commit that was refused
    /// never lands, and one that lands is never older than the next owner's.
    public func commit(partition: Int, nextOffset: Int64) async throws(StreamStoreError) {
        let (group, topic) = (group, topic)
        let committed = try coordinator.whileOwning(member, partition: partition) { () throws(StreamStoreError) in
            try group.commitNow(topic: topic.name, offsets: [partition: nextOffset])
        }
        guard committed else { throw notAssigned(partition) }
    }

    /// Tells `observer` when this member starts owning a partition (after taking its lease) and
    /// when it stops (before letting the lease go), as it happens; for tests that check that no
    /// partition has two owners at once.
    package func observeOwnership(_ observer: @escaping @Sendable (_ partition: Int, _ owned: Bool) -> Void) {
        coordinator.observe(member, observer)
    }

    /// Leaves the group: its partitions go to the other members, and ``records`` ends. Under an
    /// automatic ``CommitPolicy`` it first commits what was processed (a failure to commit is
    /// not thrown: those records are delivered again, as after a crash).
    public func close() {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard wasOpen else { return }
        if options.commitPolicy.isAutomatic { try? commitProcessed() }
        coordinator.leave(member)
    }

    /// True once closed, or once its store closed.
    var isClosed: Bool { closed.withLock { $0 } || coordinator.isClosed }
}
