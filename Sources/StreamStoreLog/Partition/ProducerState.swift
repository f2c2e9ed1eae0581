import StreamStoreFormat
/// What a partition remembers of each idempotent producer (Kafka's producer id, epoch and
/// sequence numbers in the batch header; docs/FORMAT.md, "Producer state"), so a retried batch
/// is not appended twice.
///
/// Kafka's rules, which Kafka clients rely on:
/// - A batch with producer id -1 is not idempotent and is never checked.
/// - An epoch older than the partition's for that producer is fenced: a newer instance of the
///   producer has taken over (`.producerFenced`).
/// - A new producer, or a known one with a newer epoch, starts at sequence 0.
/// - Within an epoch, a batch whose first and last sequence equal one of the producer's last
///   ``batchesKept`` batches is a retry: it is not written and the original offsets are
///   returned. Any other batch must start right after the last sequence (`.outOfOrderSequence`
///   otherwise). Sequences wrap from `Int32.max` to 0.
package struct ProducerStateTable: Equatable {
    /// Kafka keeps the last 5 batches per producer: a client has at most 5 in flight.
    static let batchesKept = 5

    struct Batch: Equatable {
        var firstSequence: Int32
        var lastSequence: Int32
        var baseOffset: Int64
        var lastOffset: Int64
    }

    struct Entry: Equatable {
        var epoch: Int16
        /// Oldest first, at most ``batchesKept``.
        var batches: [Batch]
        /// When the producer last appended (ms): the least recently used is forgotten first.
        var lastAppendMilliseconds: Int64
    }

    enum Verdict: Equatable {
        /// Write the batch, then ``record(_:producerId:epoch:baseOffset:lastOffset:now:)`` it.
        case append
        /// A retry of a batch already in the log.
        case duplicate(Batch)
    }

    private(set) var producers: [Int64: Entry] = [:]
    /// Most producers remembered at once (``Limits/maxProducersPerPartition``).
    let capacity: Int

    init(capacity: Int = Limits.maxProducersPerPartition) {
        self.capacity = capacity
    }

    var isEmpty: Bool { producers.isEmpty }

    /// The last sequence number of a batch of `count` records starting at `first`.
    package static func lastSequence(first: Int32, count: Int) -> Int32 {
        Int32(truncatingIfNeeded: (Int64(first) + Int64(count) - 1) % (Int64(Int32.max) + 1))
    }

    /// The sequence after `sequence`.
    package static func following(_ sequence: Int32) -> Int32 { sequence == Int32.max ? 0 : sequence + 1 }

    /// Decides what to do with a batch of `count` records from `producerId`. Throws
    /// `.producerFenced` or `.outOfOrderSequence` with a sentence that says what to do.
    func check(producerId: Int64, epoch: Int16, baseSequence: Int32, count: Int) throws(StreamStoreError) -> Verdict {
        guard epoch >= 0, baseSequence >= 0 else {
            throw StreamStoreError(
                .outOfOrderSequence,
                "Producer \(producerId) sent epoch \(epoch) and base sequence \(baseSequence); an idempotent batch needs both non-negative (or producer id -1 for none).")
        }
        let last = Self.lastSequence(first: baseSequence, count: count)
        guard let entry = producers[producerId] else {
            guard baseSequence == 0 else {
                throw StreamStoreError(
                    .outOfOrderSequence,
                    "Producer \(producerId) is unknown to this partition (new, or forgotten after \(capacity) newer producers) and its batch starts at sequence \(baseSequence); a producer starts at sequence 0: bump the epoch and restart its sequence.")
            }
            return .append
        }
        if epoch < entry.epoch {
            throw StreamStoreError(
                .producerFenced,
                "Producer \(producerId) epoch \(epoch) is fenced: epoch \(entry.epoch) has appended since. Stop this producer instance; the newer one owns the id.")
        }
        if epoch > entry.epoch {
            guard baseSequence == 0 else {
                throw StreamStoreError(
                    .outOfOrderSequence,
                    "Producer \(producerId) moved to epoch \(epoch) with a batch at sequence \(baseSequence); a new epoch starts at sequence 0.")
            }
            return .append
        }
        if let original = entry.batches.first(where: { $0.firstSequence == baseSequence && $0.lastSequence == last }) {
            return .duplicate(original)
        }
        let expected = entry.batches.last.map { Self.following($0.lastSequence) } ?? 0
        guard baseSequence == expected else {
            throw StreamStoreError(
                .outOfOrderSequence,
                "Producer \(producerId) epoch \(epoch) sent sequences \(baseSequence)...\(last) but the partition expects \(expected) next; a batch is missing or was reordered. Resend from sequence \(expected), or bump the epoch.")
        }
        return .append
    }

    /// Remembers a batch that was written (or found in the log when rebuilding).
    mutating func record(producerId: Int64, epoch: Int16, firstSequence: Int32, count: Int, baseOffset: Int64, lastOffset: Int64, now: Int64) {
        let batch = Batch(
            firstSequence: firstSequence, lastSequence: Self.lastSequence(first: firstSequence, count: count),
            baseOffset: baseOffset, lastOffset: lastOffset)
        if var entry = producers[producerId], entry.epoch == epoch {
            entry.batches.append(batch)
            if entry.batches.count > Self.batchesKept { entry.batches.removeFirst(entry.batches.count - Self.batchesKept) }
            entry.lastAppendMilliseconds = max(entry.lastAppendMilliseconds, now)
            producers[producerId] = entry
            return
        }
        if producers[producerId] == nil && producers.count >= capacity { forgetLeastRecentlyUsed() }
        producers[producerId] = Entry(epoch: epoch, batches: [batch], lastAppendMilliseconds: now)
    }

    /// Puts back an entry read from a snapshot.
    mutating func restore(producerId: Int64, entry: Entry) {
        producers[producerId] = entry
    }

    /// Makes room for one more producer: the one that appended longest ago goes. A retry from
    /// it is then treated as a new producer (sequence 0 is accepted, others are refused).
    private mutating func forgetLeastRecentlyUsed() {
        guard let oldest = producers.min(by: { $0.value.lastAppendMilliseconds < $1.value.lastAppendMilliseconds }) else { return }
        producers[oldest.key] = nil
    }
}
