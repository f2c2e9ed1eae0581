import StreamStoreFormat
import StreamStoreLog

/// Sends records to a topic the way Kafka's producer does: by key to Kafka's partition,
/// batched per partition, appended to the partitions concurrently, idempotent by default.
///
/// ```swift
/// let producer = try store.producer(for: "orders")
/// let placed = try await producer.send(Record(key: "customer-17", value: #"{"type":"order-placed"}"#))
/// print(try await placed.offset())                     // 3:41, once durable
/// let offsets = try await producer.send(records)       // many at once: each record's place
/// try await producer.close()                           // sends what is left first
/// ```
///
/// - **Partitioning.** A record with a key goes where Kafka's default partitioner sends it
///   (murmur2 of the key bytes, made positive, modulo the partition count), so the same key
///   lands on the same partition number as in a Kafka cluster. Records without a key stick to
///   one partition for a batch's worth of records, then move on (Kafka's sticky partitioner).
/// - **Batching.** Each partition fills one batch at a time, sent when it reaches
///   ``Options/maxBatchRecords`` or ``Options/maxBatchBytes``, after ``Options/lingerMilliseconds``,
///   or, with no linger, as soon as the partition's previous append returned. One append per
///   partition is under way at a time; different partitions append at the same time, so
///   under `.everyAppend` their fsyncs overlap instead of queueing one behind another.
/// - **Idempotence.** The store gives the producer an id and epoch (persisted, never reused)
///   and the producer numbers each partition's records. A batch retried after an I/O error
///   carries the same numbers: if the first attempt was written after all, the partition
///   returns the original offsets and writes nothing. A named producer
///   (``Options/name``) fences its older instances.
/// - **Ordering.** Records sent to one partition are appended in the order `send(_:)` was
///   called; a batch that fails for good fails its records, and the producer continues with a
///   new epoch so the batches after it are not refused as out of sequence.
///
/// Safe to use from many tasks at once.
public final class Producer: Sendable {
    /// The topic the producer appends to.
    public let topic: Topic
    /// The options it was made with.
    public let options: Options

    typealias AppendBatch = @Sendable (RecordBatch, Int) async throws(StreamStoreError) -> AppendReceipt
    typealias RegisterIdentity = @Sendable () throws(StreamStoreError) -> ProducerIdentity

    private let queues: [ProducerQueue]
    private let appendBatch: AppendBatch
    private let registerIdentity: RegisterIdentity
    private let shared: Locked<Shared>

    private struct Shared {
        var identity: ProducerIdentity?
        var identityGeneration = 1
        /// Set once the producer cannot go on (fenced, closed, or no new identity to be had).
        var failure: StreamStoreError?
        var buffered = 0
        var spaceWaiters: [CheckedContinuation<Void, Never>] = []
        var stickyPartition = 0
        var stickyCount = 0
    }

    init(topic: Topic, options: Options, registerIdentity: @escaping RegisterIdentity, appendBatch: AppendBatch? = nil) throws(StreamStoreError) {
        try options.validate()
        self.topic = topic
        self.options = options
        self.registerIdentity = registerIdentity
        if let appendBatch {
            self.appendBatch = appendBatch
        } else {
            self.appendBatch = { [topic] (batch: RecordBatch, partition: Int) async throws(StreamStoreError) -> AppendReceipt in
                try await topic.append(batch, partition: partition)
            }
        }
        self.queues = (0..<topic.partitionCount).map(ProducerQueue.init(partition:))
        let identity = options.idempotent ? try registerIdentity() : nil
        self.shared = Locked(Shared(identity: identity, stickyPartition: Int.random(in: 0..<topic.partitionCount)))
    }

    /// The producer id and epoch its batches carry (nil when not idempotent).
    package var identity: ProducerIdentity? { shared.withLock { $0.identity } }

    /// Queues `record` for its partition and returns at once, unless ``Options/maxBufferedRecords``
    /// are waiting already (then it waits for room). Await ``Delivery/offset()`` for its place.
    /// A record the batch cannot take (too large, too many headers) throws here and is not sent.
    public func send(_ record: Record) async throws(StreamStoreError) -> Delivery {
        try await reserveRoom()
        do {
            let partition = try choosePartition(for: record)
            let queue = queues[partition]
            let (delivery, lingerFor) = try queue.add(record, options: options, clock: topic.clock)
            if let lingerFor { startLinger(queue, generation: lingerFor) }
            if queue.claimSending() { startDrain(queue) }
            return delivery
        } catch {
            release(1)
            throw error
        }
    }

    /// Sends `records` and waits until each is appended: their places, in the order given.
    ///
    /// When a batch fails for good, or a record cannot be queued (too large; the records after
    /// it are not sent), the first failure is thrown once the appends of the records queued
    /// are over, with ``/StreamStoreFormat/StreamStoreError/writtenRecords`` set when some were
    /// appended: each record's place, nil for those not written.
    public func send(_ records: [Record]) async throws(StreamStoreError) -> [RecordOffset] {
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(records.count)
        var firstError: StreamStoreError?
        for record in records {
            do throws(StreamStoreError) {
                deliveries.append(try await send(record))
            } catch {
                // The records queued before it are sent all the same: wait for them, so the
                // error says which landed.
                firstError = error
                break
            }
        }
        var places: [RecordOffset?] = []
        places.reserveCapacity(records.count)
        // Records of one batch share its outcome: one wait per batch, not per record.
        var receipts: [ObjectIdentifier: AppendReceipt?] = [:]
        for delivery in deliveries {
            let batch = ObjectIdentifier(delivery.batch)
            if receipts[batch] == nil {
                do throws(StreamStoreError) {
                    receipts[batch] = .some(try await delivery.batch.receipt())
                } catch {
                    receipts[batch] = .some(nil)
                    firstError = firstError ?? error
                }
            }
            guard let known = receipts[batch], let receipt = known else {
                places.append(nil)
                continue
            }
            let place = receipt.offset(ofRecordAt: delivery.index)
            places.append(RecordOffset(partition: place.partition, offset: place.offset))
        }
        if var firstError {
            // Every record's fate is known: the ones written are acknowledged with the error.
            if places.contains(where: { $0 != nil }) {
                firstError.writtenRecords = places + [RecordOffset?](repeating: nil, count: records.count - places.count)
            }
            throw firstError
        }
        return places.compactMap { $0 }
    }

    /// Sends every queued record now, whatever the linger time, and waits until their appends
    /// are over; throws the first failure among them.
    public func flush() async throws(StreamStoreError) {
        var outcomes: [BatchOutcome] = []
        for queue in queues {
            outcomes += queue.releaseAll()
            if queue.claimSending() { startDrain(queue) }
        }
        var firstError: StreamStoreError?
        for outcome in outcomes {
            do throws(StreamStoreError) { _ = try await outcome.receipt() } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    /// Flushes, then refuses further sends (`.storeClosed`).
    public func close() async throws(StreamStoreError) {
        defer {
            let waiters = shared.withLock { shared in
                if shared.failure == nil { shared.failure = StreamStoreError(.storeClosed, "The producer is closed.", topic: topic.name) }
                defer { shared.spaceWaiters = [] }
                return shared.spaceWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
        try await flush()
    }

    // MARK: Partitions and room

    private func choosePartition(for record: Record) throws(StreamStoreError) -> Int {
        if let key = record.key { return topic.partition(forKey: key) }
        return shared.withLock { shared in
            if shared.stickyCount >= options.maxBatchRecords {
                shared.stickyCount = 0
                shared.stickyPartition = (shared.stickyPartition + 1) % queues.count
            }
            shared.stickyCount += 1
            return shared.stickyPartition
        }
    }

    private func reserveRoom() async throws(StreamStoreError) {
        while true {
            let outcome: Result<Bool, StreamStoreError> = shared.withLock { shared in
                if let failure = shared.failure { return .failure(failure) }
                guard shared.buffered < options.maxBufferedRecords else { return .success(false) }
                shared.buffered += 1
                return .success(true)
            }
            if try outcome.get() { return }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let roomNow = shared.withLock { shared -> Bool in
                    guard shared.failure == nil, shared.buffered >= options.maxBufferedRecords else { return true }
                    shared.spaceWaiters.append(continuation)
                    return false
                }
                if roomNow { continuation.resume() }
            }
        }
    }

    private func release(_ count: Int) {
        let waiters = shared.withLock { shared in
            shared.buffered -= count
            defer { shared.spaceWaiters = [] }
            return shared.spaceWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Sending

    private func startLinger(_ queue: ProducerQueue, generation: Int) {
        let milliseconds = options.lingerMilliseconds
        Task { [self] in
            try? await Task.sleep(for: .milliseconds(milliseconds))
            if queue.lingerExpired(generation: generation) { startDrain(queue) }
        }
    }

    private func startDrain(_ queue: ProducerQueue) {
        Task { [self] in await drain(queue) }
    }

    /// Appends the partition's batches one after another until none may go.
    private func drain(_ queue: ProducerQueue) async {
        while true {
            let (identity, generation, failure) = shared.withLock { ($0.identity, $0.identityGeneration, $0.failure) }
            guard let pending = queue.takeNext(identity: identity, identityGeneration: generation) else { return }
            let result: Result<AppendReceipt, StreamStoreError>
            if let failure, failure.code != .storeClosed {
                result = .failure(failure)
            } else {
                result = await appendWithRetries(pending.batch, partition: queue.partition)
            }
            queue.finished(pending.batch, succeeded: result.isSuccess)
            if case .failure(let error) = result { handleFailure(error, identityGeneration: generation) }
            pending.outcome.finish(result)
            release(pending.batch.count)
        }
    }

    private func appendWithRetries(_ batch: RecordBatch, partition: Int) async -> Result<AppendReceipt, StreamStoreError> {
        var attempt = 1
        while true {
            do throws(StreamStoreError) {
                return .success(try await appendBatch(batch, partition))
            } catch {
                guard options.idempotent, case .io = error.code, attempt < options.retry.maxAttempts else { return .failure(error) }
                try? await Task.sleep(for: .milliseconds(options.retry.delayMilliseconds(afterAttempt: attempt)))
                attempt += 1
            }
        }
    }

    /// After a batch failed for good: a fenced producer stops; otherwise the producer takes a
    /// new epoch (or id), so the partition accepts its next batches from sequence 0 instead of
    /// refusing them for the gap the failed batch left.
    private func handleFailure(_ error: StreamStoreError, identityGeneration: Int) {
        guard options.idempotent else { return }
        if error.code == .producerFenced {
            shared.withLock { $0.failure = $0.failure ?? error }
            return
        }
        let renew = shared.withLock { $0.identityGeneration == identityGeneration && $0.failure == nil }
        guard renew else { return }
        do throws(StreamStoreError) {
            let identity = try registerIdentity()
            shared.withLock { shared in
                guard shared.identityGeneration == identityGeneration else { return }
                shared.identity = identity
                shared.identityGeneration += 1
            }
        } catch {
            shared.withLock { $0.failure = $0.failure ?? error }
        }
    }
}

extension Result {
    fileprivate var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
