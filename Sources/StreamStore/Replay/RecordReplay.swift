import StreamStoreFormat
import StreamStoreLog
/// Records of one or more partitions as an `AsyncSequence`, from ``Topic/replay(partitions:options:)``.
///
/// Each partition's records come in offset order; partitions take turns a read at a time.
/// Iterating allocates one array of records per read (about ``ReplayOptions/maxBytesPerRead``
/// of batches), not per record, and reuses its read and decompression buffers.
public struct RecordReplay: AsyncSequence, Sendable {
    /// Each element is one record.
    public typealias Element = StoredRecord
    /// Reads fail with the store's error type.
    public typealias Failure = StreamStoreError

    let topic: Topic
    let partitions: [Int]
    let options: ReplayOptions

    /// An iterator with cursors of its own: each iteration replays from the options' start.
    public func makeAsyncIterator() -> Iterator {
        Iterator(topic: topic, partitions: partitions, options: options)
    }

    /// Reads the partitions in turn, a read at a time, and hands out the records of each read.
    public struct Iterator: AsyncIteratorProtocol {
        /// Each element is one record.
        public typealias Element = StoredRecord
        /// Reads fail with the store's error type.
        public typealias Failure = StreamStoreError

        private let topic: Topic
        private let partitions: [Int]
        private let options: ReplayOptions
        private(set) var engine: ReplayEngine?
        // The records of the last read and the next to hand out: visible to the inlined fast
        // path of `next`, so a replay loop pays no call per record (measured: 2x on 100-byte
        // records), only per read.
        @usableFromInline var records: [StoredRecord] = []
        @usableFromInline var index = 0

        init(topic: Topic, partitions: [Int], options: ReplayOptions) {
            self.topic = topic
            self.partitions = partitions
            self.options = options
        }

        /// The next record; nil at the end of the replay or once the task is cancelled. Throws when a
        /// read fails (a corrupt batch, an offset out of range under `.fail`, a closed store).
        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(StreamStoreError) -> StoredRecord? {
            if index < records.count {
                defer { index += 1 }
                return records[index]
            }
            return try await nextAfterRead()
        }

        /// The next record, as ``next(isolation:)``.
        @inlinable
        public mutating func next() async throws(StreamStoreError) -> StoredRecord? {
            try await next(isolation: nil)
        }

        /// Reads until there are records (or the replay is over) and returns the first.
        @usableFromInline
        nonisolated(nonsending) mutating func nextAfterRead() async throws(StreamStoreError) -> StoredRecord? {
            while index == records.count {
                if engine == nil { engine = try topic.makeReplayEngine(partitions: partitions, options: options) }
                // Drop the records handed out before reading: they share the reader's buffers,
                // and a buffer still shared is copied before it is written (ReadBuffers).
                records.removeAll()
                index = 0
                guard let batches = try await engine!.next() else { return nil }
                let (decoded, failure) = StoredBatch.records(of: batches, from: 0)
                // The records before a malformed batch stay for a retry of next().
                records = decoded
                if let (index, error) = failure {
                    let batch = batches[index]
                    if let error = error as? StreamStoreError { throw error.with(topic: topic.name, partition: batch.partition) }
                    throw StreamStoreError(.corruptBatch, "\(error)", topic: topic.name, partition: batch.partition, offset: batch.baseOffset)
                }
            }
            defer { index += 1 }
            return records[index]
        }
    }
}

/// Batches of one or more partitions as an `AsyncSequence`, from
/// ``Topic/replayBatches(partitions:options:)``: the fast way to replay, with no object per
/// record. A batch may hold records outside the replay's range (its first batch can begin before
/// the start offset); ``/StreamStoreFormat/StoredBatch/forEachRecord(from:_:)`` and
/// ``/StreamStoreFormat/StoredBatch/storedRecords(from:)`` visit only the records in range.
public struct BatchReplay: AsyncSequence, Sendable {
    /// Each element is one batch, decompressed.
    public typealias Element = StoredBatch
    /// Reads fail with the store's error type.
    public typealias Failure = StreamStoreError

    let topic: Topic
    let partitions: [Int]
    let options: ReplayOptions

    /// An iterator with cursors of its own: each iteration replays from the options' start.
    public func makeAsyncIterator() -> Iterator {
        Iterator(topic: topic, partitions: partitions, options: options)
    }

    /// Reads the partitions in turn, a read at a time, and hands out the batches of each read.
    public struct Iterator: AsyncIteratorProtocol {
        /// Each element is one batch, decompressed.
        public typealias Element = StoredBatch
        /// Reads fail with the store's error type.
        public typealias Failure = StreamStoreError

        private let topic: Topic
        private let partitions: [Int]
        private let options: ReplayOptions
        private(set) var engine: ReplayEngine?
        private var batches: [StoredBatch] = []
        private var index = 0

        init(topic: Topic, partitions: [Int], options: ReplayOptions) {
            self.topic = topic
            self.partitions = partitions
            self.options = options
        }

        /// The next batch; nil at the end of the replay or once the task is cancelled. Throws when a
        /// read fails (a corrupt batch, an offset out of range under `.fail`, a closed store).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(StreamStoreError) -> StoredBatch? {
            while index == batches.count {
                if engine == nil { engine = try topic.makeReplayEngine(partitions: partitions, options: options) }
                guard let next = try await engine!.next() else { return nil }
                batches = next
                index = 0
            }
            defer { index += 1 }
            return batches[index]
        }

        /// The next batch, as ``next(isolation:)``.
        public mutating func next() async throws(StreamStoreError) -> StoredBatch? {
            try await next(isolation: nil)
        }
    }
}
