import StreamStoreFormat
import StreamStoreLog
/// The records of a ``Consumer``'s partitions as an `AsyncSequence` that follows the log.
public struct ConsumerRecords: AsyncSequence, Sendable {
    /// Each element is one record of a partition the member owns.
    public typealias Element = StoredRecord
    /// Reads fail with the store's error type.
    public typealias Failure = StreamStoreError

    let consumer: Consumer

    /// An iterator that joins the member's reading; iterate from one task only.
    public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

    /// Reads the member's partitions in turn and waits at the log end for new records.
    public struct Iterator: AsyncIteratorProtocol {
        /// Each element is one record of a partition the member owns.
        public typealias Element = StoredRecord
        /// Reads fail with the store's error type.
        public typealias Failure = StreamStoreError

        private let reader: MemberReader

        init(consumer: Consumer) { reader = MemberReader(consumer: consumer) }

        /// The next record; waits at the log end. Nil once the task is cancelled or the consumer is
        /// closed; throws when a read fails or the store closes.
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
    private var pending: [StoredRecord] = []
    private var pendingIndex = 0
    private var nextPartition = 0

    init(consumer: Consumer) { self.consumer = consumer }

    nonisolated(nonsending) func next() async throws(StreamStoreError) -> StoredRecord? {
        while true {
            if Task.isCancelled || consumer.isClosed { return nil }
            try applyAssignment()
            if pendingIndex < pending.count {
                defer { pendingIndex += 1 }
                return pending[pendingIndex]
            }
            if try readSome() { continue }
            await waitForRecords()
        }
    }

    /// Drops released partitions (with their undelivered records) and opens cursors at the
    /// group's committed offsets for owned partitions without one: new ones, and, for a reader
    /// made after an earlier one of the same member stopped, those the member kept.
    private func applyAssignment() throws(StreamStoreError) {
        let change = consumer.coordinator.sync(consumer.member)
        if !change.released.isEmpty {
            let released = Set(change.released)
            for partition in released { cursors[partition] = nil }
            let keep = pending[pendingIndex...].filter { !released.contains($0.partition) }
            pending = keep
            pendingIndex = 0
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
            cursors[partition] = try PartitionCursor(
                partition: consumer.topic.partition(partition), start: start, stop: nil, resetPolicy: consumer.options.resetPolicy)
        }
    }

    /// One read from the next owned partition that has records; false when none has.
    private func readSome() throws(StreamStoreError) -> Bool {
        let owned = cursors.keys.sorted()
        guard !owned.isEmpty else { return false }
        // Every pending record was delivered; dropping them before the read lets it reuse the
        // reader's buffers instead of copying them (ReadBuffers).
        pending.removeAll()
        pendingIndex = 0
        for step in 0..<owned.count {
            let partition = owned[(nextPartition + step) % owned.count]
            let batches = try cursors[partition]!.read(maxBytes: consumer.options.maxBytesPerRead)
            guard !batches.isEmpty else { continue }
            nextPartition = (nextPartition + step + 1) % owned.count
            pending.removeAll()
            pendingIndex = 0
            let (decoded, failure) = StoredBatch.records(of: batches, from: 0)
            // The records before a malformed batch stay pending.
            pending = decoded
            if let (index, error) = failure {
                if let error = error as? StreamStoreError { throw error.with(topic: consumer.topic.name, partition: partition) }
                throw StreamStoreError(.corruptBatch, "\(error)", topic: consumer.topic.name, partition: partition, offset: batches[index].baseOffset)
            }
            if !pending.isEmpty { return true }
        }
        return false
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
