import StreamStoreFormat
import StreamStoreLog

/// One partition's records waiting in a ``Producer``: the batch being filled, full batches
/// waiting their turn, and the one append under way. At most one append per partition is under
/// way at a time, so the partition sees the producer's sequence numbers in order; records that
/// arrive meanwhile fill the next batch.
final class ProducerQueue: Sendable {
    struct Pending {
        var batch: RecordBatch
        let outcome = BatchOutcome()
        /// Counts the batches opened, so a linger timer knows whether its batch is still open.
        var generation: Int
    }

    struct State {
        var open: Pending?
        var ready: [Pending] = []
        var inFlight: BatchOutcome?
        /// True while a drain task runs for this partition.
        var sending = false
        /// The open batch may go now: its linger time passed, or a flush asked for it.
        var openMayGo = false
        var generations = 0
        /// The sequence number the next batch starts at, for ``identityGeneration``.
        var nextSequence: Int32 = 0
        /// The producer identity the sequence counts for; another one restarts at 0.
        var identityGeneration = 0
    }

    let partition: Int
    let state = Locked(State())

    init(partition: Int) { self.partition = partition }

    /// Adds `record` to the open batch (encoding it now; an invalid record throws and is not
    /// queued). Returns its delivery, and the generation of the batch it opened when that batch
    /// should get a linger timer.
    func add(_ record: Record, options: Producer.Options, clock: any StoreClock) throws(StreamStoreError) -> (Delivery, lingerFor: Int?) {
        try state.withLock { (state) throws(StreamStoreError) -> (Delivery, lingerFor: Int?) in
            if let open = state.open, open.batch.byteCount + Self.estimatedBytes(record) > options.maxBatchBytes {
                state.ready.append(open)
                state.open = nil
            }
            var opened: Int?
            var pending: Pending
            if let open = state.open {
                pending = open
            } else {
                state.generations += 1
                pending = Pending(batch: RecordBatch(clock: clock), generation: state.generations)
                state.openMayGo = options.lingerMilliseconds == 0
                opened = state.generations
            }
            state.open = nil
            do throws(StreamStoreError) {
                try pending.batch.append(record)
            } catch {
                if !pending.batch.isEmpty { state.open = pending }
                throw error
            }
            let delivery = Delivery(batch: pending.outcome, index: pending.batch.count - 1)
            if pending.batch.count >= options.maxBatchRecords || pending.batch.byteCount >= options.maxBatchBytes {
                state.ready.append(pending)
                opened = nil
            } else {
                state.open = pending
            }
            return (delivery, options.lingerMilliseconds > 0 ? opened : nil)
        }
    }

    /// A record's size in a batch, near enough to keep batches under their byte bound.
    private static func estimatedBytes(_ record: Record) -> Int {
        let headers = record.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) + 4 }
        return (record.key?.count ?? 0) + (record.value?.count ?? 0) + headers + 24
    }

    /// True when a drain should start now; marks it started.
    func claimSending() -> Bool {
        state.withLock { state in
            guard !state.sending, !state.ready.isEmpty || (state.openMayGo && !(state.open?.batch.isEmpty ?? true)) else { return false }
            state.sending = true
            return true
        }
    }

    /// The open batch of generation `generation` may go (its linger time is over). True when a
    /// drain should start.
    func lingerExpired(generation: Int) -> Bool {
        state.withLock { state in
            if state.open?.generation == generation { state.openMayGo = true }
        }
        return claimSending()
    }

    /// Lets the open batch go whatever its linger, and returns every outcome not yet known: what
    /// a flush waits for.
    func releaseAll() -> [BatchOutcome] {
        state.withLock { state in
            if let open = state.open, !open.batch.isEmpty {
                state.ready.append(open)
                state.open = nil
            }
            return (state.inFlight.map { [$0] } ?? []) + state.ready.map(\.outcome)
        }
    }

    /// The next batch to append, stamped with `identity` and this partition's next sequence,
    /// or nil (and the drain ends) when none may go yet.
    func takeNext(identity: ProducerIdentity?, identityGeneration: Int) -> Pending? {
        state.withLock { state in
            var next: Pending
            if !state.ready.isEmpty {
                next = state.ready.removeFirst()
            } else if state.openMayGo, let open = state.open, !open.batch.isEmpty {
                next = open
                state.open = nil
            } else {
                state.sending = false
                return nil
            }
            if let identity {
                if state.identityGeneration != identityGeneration {
                    state.identityGeneration = identityGeneration
                    state.nextSequence = 0
                }
                next.batch.producerId = identity.producerId
                next.batch.producerEpoch = identity.epoch
                next.batch.baseSequence = state.nextSequence
            }
            state.inFlight = next.outcome
            return next
        }
    }

    /// The append of `batch` is over: a success moves the sequence past it.
    func finished(_ batch: RecordBatch, succeeded: Bool) {
        state.withLock { state in
            state.inFlight = nil
            guard succeeded, batch.producerId >= 0, state.identityGeneration >= 0 else { return }
            state.nextSequence = ProducerStateTable.following(ProducerStateTable.lastSequence(first: batch.baseSequence, count: batch.count))
        }
    }
}
