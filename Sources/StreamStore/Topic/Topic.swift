import StreamStoreFormat
import StreamStoreLog
/// Where a read starts in a partition.
public enum StartPosition: Sendable, Equatable, Hashable {
    /// The log start offset: the oldest record still kept.
    case beginning
    /// The log end offset: only records appended from now on.
    case end
    /// A given offset.
    case offset(Int64)
    /// The first record whose timestamp (as a running maximum) is at or after this time, in
    /// milliseconds since the Unix epoch.
    case timestamp(Int64)
}

/// A named stream of records split into partitions, from ``Store/createTopic(_:config:)`` or
/// ``Store/topic(_:)``.
///
/// Safe to use from many tasks at once: appends to one partition are serialised, appends to
/// different partitions run in parallel, and reads never wait for appends.
public final class Topic: Sendable {
    /// The topic's name, which is also its folder's name.
    public let name: String
    /// The topic's settings as they are now.
    public var config: TopicConfig { settings.withLock { $0 } }
    /// Shared with every partition's context, so a config change reaches them all at once.
    let settings: Locked<TopicConfig>
    let partitions: [Partition]
    private let roundRobin = Locked<Int>(0)
    /// The message ids of the de-duplication window (inactive unless the topic has one); its
    /// lock is taken before any partition's.
    let dedupe = Locked(DedupeWindow.inactive)
    let metrics: TopicMetrics
    /// The store's clock, for the batches the topic builds itself.
    let clock: any StoreClock

    init(name: String, settings: Locked<TopicConfig>, partitions: [Partition], metrics: TopicMetrics, clock: any StoreClock) {
        self.name = name
        self.settings = settings
        self.partitions = partitions
        self.metrics = metrics
        self.clock = clock
    }

    /// How many partitions the topic has; fixed when it is created.
    public var partitionCount: Int { partitions.count }

    package func partition(_ index: Int) throws(StreamStoreError) -> Partition {
        guard partitions.indices.contains(index) else {
            throw StreamStoreError(
                .partitionOutOfRange, "Topic \(quoted(name)) has partitions 0...\(partitions.count - 1); there is no partition \(index).",
                topic: name, partition: index)
        }
        return partitions[index]
    }

    /// The partition Kafka's default partitioner picks for `key`: murmur2 of the key bytes,
    /// made positive, modulo the partition count.
    public func partition(forKey key: [UInt8]) -> Int {
        KafkaPartitioner.partition(forKey: key, partitionCount: partitions.count)
    }

    // MARK: Appending

    /// Appends a batch to one partition.
    ///
    /// Returns once the batch is as durable as the topic's ``/StreamStoreLog/FlushPolicy`` promises: with
    /// `.everyAppend`, on disk (fsynced); otherwise written to the operating system. The batch
    /// is not changed, so it can be reused (``/StreamStoreFormat/RecordBatch/removeAll()``) or appended elsewhere.
    ///
    /// Guards, checked before anything is written:
    /// - `expectedNextOffset` (optimistic concurrency, for event sourcing): when given, the
    ///   append succeeds only if the partition's log end is exactly that offset; otherwise it
    ///   throws `.offsetConflict` (naming the actual end) and writes nothing. Read what the other
    ///   writer appended, decide again, retry.
    /// - Idempotent producers (``/StreamStoreFormat/RecordBatch/producerId`` set): a retry of a batch already
    ///   written is not written again (`.producerSequence` duplicates in the receipt), an older
    ///   epoch throws `.producerFenced`, a sequence gap `.outOfOrderSequence`.
    /// - With ``TopicConfig/dedupeWindowMilliseconds``: records whose `message-id` the topic
    ///   appended within the window are left out and reported in ``/StreamStoreLog/AppendReceipt/duplicates``
    ///   with their original offsets. A batch whose records are all duplicates writes nothing
    ///   and succeeds whatever `expectedNextOffset` says: the append it repeats already happened.
    public func append(_ batch: RecordBatch, partition index: Int, expectedNextOffset: Int64? = nil) async throws(StreamStoreError) -> AppendReceipt {
        let partition = try partition(index)
        if dedupeEnabled { return try await appendDeduplicating(batch, to: partition, expectedNextOffset: expectedNextOffset) }
        return try await partition.append(batch, expectedNextOffset: expectedNextOffset)
    }

    /// Appends records to one partition as one batch (see ``append(_:partition:expectedNextOffset:)``).
    public func append(_ records: [Record], partition index: Int, expectedNextOffset: Int64? = nil) async throws(StreamStoreError) -> AppendReceipt {
        var batch = RecordBatch(clock: clock)
        for record in records { try batch.append(record) }
        return try await append(batch, partition: index, expectedNextOffset: expectedNextOffset)
    }

    /// Appends records, each to the partition its key selects (Kafka's default partitioner), and
    /// records without a key to one partition chosen round-robin per call. One batch per
    /// partition, appended to the partitions at the same time (under `.everyAppend` their fsyncs
    /// overlap instead of following one another); the receipts come in partition order.
    ///
    /// When an append fails, the others still run to their end, and the error of the lowest
    /// partition that failed is thrown with ``/StreamStoreFormat/StreamStoreError/writtenRecords``
    /// set when other partitions' batches were written: where each record given lies, nil for
    /// those not written. Those are acknowledged as any append is; resend only the others.
    ///
    /// For a steady stream of records, a ``Producer`` batches across calls and is idempotent.
    public func append(_ records: [Record]) async throws(StreamStoreError) -> [AppendReceipt] {
        guard !records.isEmpty else { return [] }
        var batches: [Int: RecordBatch] = [:]
        let keyless = roundRobin.withLock { next -> Int in
            defer { next = (next + 1) % partitions.count }
            return next
        }
        // Each record's partition and position in its batch, to say where it went after a failure.
        var placement: [(partition: Int, index: Int)] = []
        placement.reserveCapacity(records.count)
        for record in records {
            let index = record.key.map { partition(forKey: $0) } ?? keyless
            try batches[index, default: RecordBatch(clock: clock)].append(record)
            placement.append((index, (batches[index]?.count ?? 1) - 1))
        }
        if batches.count == 1, let (index, batch) = batches.first { return [try await append(batch, partition: index)] }
        let results = await withTaskGroup(of: (Int, Result<AppendReceipt, StreamStoreError>).self) { group in
            for (index, batch) in batches {
                group.addTask {
                    do throws(StreamStoreError) {
                        return (index, .success(try await self.append(batch, partition: index)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [(Int, Result<AppendReceipt, StreamStoreError>)] = []
            for await result in group { results.append(result) }
            return results
        }
        var receipts: [Int: AppendReceipt] = [:]
        var firstFailure: (partition: Int, error: StreamStoreError)?
        for (index, result) in results {
            switch result {
            case .success(let receipt): receipts[index] = receipt
            case .failure(let error) where firstFailure.map({ index < $0.partition }) ?? true: firstFailure = (index, error)
            case .failure: break
            }
        }
        guard var failure = firstFailure?.error else { return receipts.sorted { $0.key < $1.key }.map(\.value) }
        if !receipts.isEmpty {
            failure.writtenRecords = placement.map { place in
                receipts[place.partition].map { receipt in
                    let (partition, offset) = receipt.offset(ofRecordAt: place.index)
                    return RecordOffset(partition: partition, offset: offset)
                }
            }
        }
        throw failure
    }

    // MARK: Reading

    /// Records of one partition from `offset` on, up to about `maxBytes` of batches (always at
    /// least one batch). Empty at the log end; `.offsetOutOfRange` below the log start or past
    /// the end.
    public func read(partition index: Int, from offset: Int64, maxBytes: Int = 1 << 20) throws(StreamStoreError) -> [StoredRecord] {
        try partition(index).read(from: offset, maxBytes: maxBytes)
    }

    /// Like ``read(partition:from:maxBytes:)``, batch by batch, for loops that walk records
    /// without an object per record (``/StreamStoreFormat/StoredBatch/forEachRecord(from:_:)``). The first batch
    /// may begin before `offset`.
    public func readBatches(partition index: Int, from offset: Int64, maxBytes: Int = 1 << 20) throws(StreamStoreError) -> [StoredBatch] {
        try partition(index).readBatches(from: offset, maxBytes: maxBytes)
    }

    /// The offset a read from `position` starts at. An ``StartPosition/offset(_:)`` outside the
    /// log (below its start, past its end) throws `.offsetOutOfRange`, as a
    /// ``read(partition:from:maxBytes:)`` from it would.
    public func offset(partition index: Int, for position: StartPosition) throws(StreamStoreError) -> Int64 {
        let partition = try partition(index)
        switch position {
        case .beginning: return partition.offsets.logStart
        case .end: return partition.offsets.logEnd
        case .offset(let offset): return try partition.checkedReadStart(offset)
        case .timestamp(let timestamp): return try partition.offset(forTimestamp: timestamp)
        }
    }

    /// The first offset still kept in the partition.
    public func logStartOffset(partition index: Int) throws(StreamStoreError) -> Int64 {
        try partition(index).offsets.logStart
    }

    /// The offset the next appended record will get (records below it are readable).
    public func logEndOffset(partition index: Int) throws(StreamStoreError) -> Int64 {
        try partition(index).offsets.logEnd
    }

    /// Makes every append so far durable, whatever the flush policy.
    public func flush() async throws(StreamStoreError) {
        for partition in partitions { try await partition.flush() }
    }
}
