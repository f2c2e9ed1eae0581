import StreamStoreFormat
import StreamStoreLog
/// Records of one or more partitions as an `AsyncSequence`, from ``Topic/replay(partitions:options:)``.
///
/// Each partition's records come in offset order; partitions take turns a read at a time.
/// Each record is decoded when it is asked for, from the batches of the last read (about
/// ``ReplayOptions/maxBytesPerRead`` of them): no array of records per read, and the read and
/// decompression buffers are reused. A record's key and value are slices of the read buffer, so
/// a record kept past the loop stays valid (and keeps that buffer alive, so the next read
/// fills a new one). For the batch-level speed with record-level code, see
/// ``forEachRecord(_:)``: a view per record, nothing retained.
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

    /// Calls `body` with a view of each record, in the order iteration hands them out: the
    /// same replay, at the speed of the batch-level reads, since a view is read in place from
    /// the read buffer (no allocation, no reference counting per record).
    ///
    /// ```swift
    /// var total = 0
    /// var kept: [StoredRecord] = []
    /// try await orders.replay().forEachRecord { record in
    ///     total += record.value?.count ?? 0
    ///     if record.offset % 1000 == 0 { kept.append(StoredRecord(copying: record)) }
    /// }
    /// ```
    /// The view is valid only during the call, and the compiler keeps it there (see
    /// ``/StreamStoreFormat/RecordView``); copy what you keep. Returns when the replay ends (never
    /// with `follow`, until the task is cancelled); an error of `body` ends it and is thrown as it is.
    nonisolated(nonsending) public func forEachRecord(_ body: (borrowing RecordView) throws(StreamStoreError) -> Void) async throws(StreamStoreError) {
        let engine = try topic.makeReplayEngine(partitions: partitions, options: options)
        while let batches = try await engine.next() {
            for batch in batches {
                var bodyFailed = false
                do throws(StreamStoreError) {
                    try batch.forEachRecord(from: 0) { (record) throws(StreamStoreError) in
                        do throws(StreamStoreError) { try body(record) } catch {
                            bodyFailed = true
                            throw error
                        }
                    }
                } catch {
                    throw bodyFailed ? error : error.with(topic: topic.name, partition: batch.partition)
                }
            }
        }
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

        /// The replay's engine, made on the first read.
        private mutating func currentEngine() throws(StreamStoreError) -> ReplayEngine {
            if let engine { return engine }
            let made = try topic.makeReplayEngine(partitions: partitions, options: options)
            engine = made
            return made
        }
        /// The records of the last read, decoded one at a time as they are handed out.
        private var records = StoredRecordCursor()

        init(topic: Topic, partitions: [Int], options: ReplayOptions) {
            self.topic = topic
            self.partitions = partitions
            self.options = options
        }

        /// The next record; nil at the end of the replay or once the task is cancelled. Throws when a
        /// read fails (a corrupt batch, an offset out of range under `.fail`, a closed store).
        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(StreamStoreError) -> StoredRecord? {
            // Inlined into the caller's loop: a record of the last read costs one plain call,
            // no async call (measured: 2x on 100-byte records).
            if let record = try nextOfRead() { return record }
            return try await nextAfterRead()
        }

        /// The next record, as ``next(isolation:)``.
        @inlinable
        public mutating func next() async throws(StreamStoreError) -> StoredRecord? {
            try await next(isolation: nil)
        }

        /// The next record of the last read, decoded now; nil when the read has no more.
        @usableFromInline
        mutating func nextOfRead() throws(StreamStoreError) -> StoredRecord? {
            do throws(StreamStoreError) {
                return try records.next()
            } catch {
                // The records before a malformed one were handed out; the next call goes on
                // with the batch after it.
                throw error.with(topic: topic.name, partition: records.partition)
            }
        }

        /// Reads until there are records (or the replay is over) and returns the first.
        @usableFromInline
        nonisolated(nonsending) mutating func nextAfterRead() async throws(StreamStoreError) -> StoredRecord? {
            while true {
                let engine = try currentEngine()
                // Drop the last read's buffers before reading: a buffer still shared is copied
                // before it is written (ReadBuffers).
                records = StoredRecordCursor()
                guard let batches = try await engine.next() else { return nil }
                records = StoredRecordCursor(batches: batches)
                if let record = try nextOfRead() { return record }
            }
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

        /// The replay's engine, made on the first read.
        private mutating func currentEngine() throws(StreamStoreError) -> ReplayEngine {
            if let engine { return engine }
            let made = try topic.makeReplayEngine(partitions: partitions, options: options)
            engine = made
            return made
        }
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
                let engine = try currentEngine()
                guard let next = try await engine.next() else { return nil }
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
