import StreamStoreFormat
import StreamStoreLog
/// The records of a ``Consumer``'s partitions as an `AsyncSequence` that follows the log.
public struct ConsumerRecords: AsyncSequence, Sendable {
    /// Each element is one record of a partition the member owns.
    public typealias Element = StoredRecord
    /// Reads fail with the store's error type.
    public typealias Failure = StreamStoreError

    let consumer: Consumer
    let until: ConsumerStop?

    /// An iterator that joins the member's reading; iterate from one task only.
    public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer, until: until) }

    /// Reads the member's partitions in turn and waits at the log end for new records.
    public struct Iterator: AsyncIteratorProtocol {
        /// Each element is one record of a partition the member owns.
        public typealias Element = StoredRecord
        /// Reads fail with the store's error type.
        public typealias Failure = StreamStoreError

        private let reader: MemberReader

        init(consumer: Consumer, until: ConsumerStop?) { reader = MemberReader(consumer: consumer, until: until) }

        /// The next record; waits at the log end. Nil once the task is cancelled, the consumer is
        /// closed, or a finite consumption reached its stop; throws when a read (or an automatic
        /// commit) fails or the store closes.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(StreamStoreError) -> StoredRecord? {
            try await reader.next()
        }

        /// The next record, as ``next(isolation:)``.
        public mutating func next() async throws(StreamStoreError) -> StoredRecord? {
            try await reader.next()
        }
    }
}

/// The reading side of one member: a cursor per owned partition and the records of the last
/// read not yet handed out. Between records it syncs with the coordinator, so partitions move
/// only while no record of theirs is being handled.
final class MemberReader: @unchecked Sendable {
    // Used by the one task iterating the consumer's records.
    private let consumer: Consumer
    private var cursors: [Int: PartitionCursor] = [:]
    /// The records of the last read not yet handed out, decoded as they are.
    private var pending = StoredRecordCursor()
    private var nextPartition = 0
    private let until: ConsumerStop?
    private let autoCommits: Bool
    /// Where the record handed out last lies: processed once the next one is asked for.
    private var delivered: (partition: Int, offset: Int64)?

    init(consumer: Consumer, until: ConsumerStop?) {
        self.consumer = consumer
        self.until = until
        autoCommits = consumer.options.commitPolicy.isAutomatic
    }

    nonisolated(nonsending) func next() async throws(StreamStoreError) -> StoredRecord? {
        if autoCommits, let record = delivered {
            delivered = nil
            if consumer.markProcessed(partition: record.partition, offset: record.offset) { try consumer.commitProcessed() }
        }
        while true {
            if Task.isCancelled || consumer.isClosed {
                try commitIfAutomatic()
                return nil
            }
            try applyAssignment()
            if let record = try nextPending() {
                if autoCommits { delivered = (record.partition, record.offset) }
                return record
            }
            if consumer.options.commitPolicy.atEndOfRead { try commitIfAutomatic() }
            if try readSome() { continue }
            if until != nil, cursors.values.allSatisfy(\.isFinished) {
                try commitIfAutomatic()
                return nil
            }
            try commitIfAutomatic()
            await waitForRecords()
        }
    }

    /// Commits what was processed, under an automatic policy, when there is anything.
    private func commitIfAutomatic() throws(StreamStoreError) {
        guard autoCommits, consumer.hasUncommitted else { return }
        try consumer.commitProcessed()
    }

    /// Drops released partitions (with their undelivered records) and opens cursors at the
    /// group's committed offsets for owned partitions without one: new ones, and, for a reader
    /// made after an earlier one of the same member stopped, those the member kept.
    private func applyAssignment() throws(StreamStoreError) {
        let change = consumer.coordinator.sync(consumer.member)
        if !change.released.isEmpty {
            let released = Set(change.released)
            for partition in released { cursors[partition] = nil }
            consumer.dropUncommitted(of: released)
            // A read holds the records of one partition.
            if released.contains(pending.partition) { pending = StoredRecordCursor() }
        }
        let opening = change.owned.filter { cursors[$0] == nil }
        guard !opening.isEmpty else { return }
        let committed = try consumer.group.committedOffsets(topic: consumer.topic.name)
        for partition in opening {
            let start: StartPosition
            if let offset = committed[partition] {
                start = .offset(offset)
            } else {
                start = consumer.options.resetPolicy == .latest ? .end : .beginning
            }
            let log = try consumer.topic.partition(partition)
            // A finite consumption stops at the end the partition has when the member takes it.
            let stop: ReplayStop? = until == .end ? .offset(log.offsets.logEnd) : nil
            cursors[partition] = try PartitionCursor(partition: log, start: start, stop: stop, resetPolicy: consumer.options.resetPolicy)
        }
    }

    /// One read from the next owned partition that has records; false when none has.
    private func readSome() throws(StreamStoreError) -> Bool {
        let owned = cursors.keys.sorted()
        guard !owned.isEmpty else { return false }
        // Every pending record was delivered; dropping them before the read lets it reuse the
        // reader's buffers instead of copying them (ReadBuffers).
        pending = StoredRecordCursor()
        for step in 0..<owned.count {
            let partition = owned[(nextPartition + step) % owned.count]
            guard let cursor = cursors[partition] else { continue }
            let batches = try cursor.read(maxBytes: consumer.options.maxBytesPerRead)
            guard !batches.isEmpty else { continue }
            nextPartition = (nextPartition + step + 1) % owned.count
            pending = StoredRecordCursor(batches: batches)
            return true
        }
        return false
    }

    /// The next record of the last read, decoded now; nil when the read has no more. After a
    /// malformed record, the records of the read's later batches stay pending.
    private func nextPending() throws(StreamStoreError) -> StoredRecord? {
        do throws(StreamStoreError) {
            return try pending.next()
        } catch {
            throw error.with(topic: consumer.topic.name, partition: pending.partition)
        }
    }

    /// Waits for an append to an owned partition or a change of assignment.
    private nonisolated(nonsending) func waitForRecords() async {
        let wakeup = Wakeup()
        guard consumer.coordinator.setWaiting(consumer.member, wakeup) else { return }
        let waiting = Array(cursors.values)
        for cursor in waiting { cursor.partition.notify(wakeup, whenEndPasses: cursor.position) }
        await wakeup.wait()
        for cursor in waiting { cursor.partition.cancelNotify(wakeup) }
        _ = consumer.coordinator.setWaiting(consumer.member, nil)
    }
}
