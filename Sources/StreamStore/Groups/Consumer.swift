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

    /// Options with the given reset policy and read size (defaults: the log start, 1 MiB).
    public init(resetPolicy: OffsetResetPolicy = .earliest, maxBytesPerRead: Int = 1 << 20) {
        self.resetPolicy = resetPolicy
        self.maxBytesPerRead = maxBytesPerRead
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

    init(group: ConsumerGroup, topic: Topic, options: ConsumerOptions) throws(StreamStoreError) {
        self.group = group
        self.topic = topic
        self.options = options
        coordinator = try group.coordinator(for: topic)
        member = try coordinator.join()
    }

    deinit { coordinator.leave(member) }

    /// The records of the partitions assigned to this member, as they come.
    public var records: ConsumerRecords { ConsumerRecords(consumer: self) }

    /// The partitions this member owns now.
    public var assignedPartitions: [Int] { coordinator.owned(by: member) }

    /// Commits `record` as processed: its partition's next offset becomes `record.offset + 1`.
    /// Throws `.partitionNotAssigned` when the partition moved to another member meanwhile
    /// (that member delivers the record again).
    public func commit(_ record: StoredRecord) async throws(StreamStoreError) {
        try await commit(partition: record.partition, nextOffset: record.offset + 1)
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
        guard committed else {
            throw StreamStoreError(
                .partitionNotAssigned,
                "Partition \(partition) of \(topic.name) is not assigned to this consumer of group \(group.name) any more; its new owner continues from the last commit.",
                topic: topic.name, partition: partition)
        }
    }

    /// Tells `observer` when this member starts owning a partition (after taking its lease) and
    /// when it stops (before letting the lease go), as it happens; for tests that check that no
    /// partition has two owners at once.
    package func observeOwnership(_ observer: @escaping @Sendable (_ partition: Int, _ owned: Bool) -> Void) {
        coordinator.observe(member, observer)
    }

    /// Leaves the group: its partitions go to the other members, and ``records`` ends.
    public func close() {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if wasOpen { coordinator.leave(member) }
    }

    /// True once closed, or once its store closed.
    var isClosed: Bool { closed.withLock { $0 } || coordinator.isClosed }
}
