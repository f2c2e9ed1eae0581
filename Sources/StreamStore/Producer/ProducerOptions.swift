import StreamStoreFormat

extension Producer {
    /// How a ``Producer`` batches, identifies itself and retries.
    ///
    /// The defaults suit a service that sends events as they happen: idempotent, batches of up
    /// to 1,000 records or 1 MiB per partition, no linger (a batch goes as soon as the
    /// partition's previous append returned, so records that arrive meanwhile share the next
    /// one), and 3 attempts per batch.
    public struct Options: Sendable, Equatable {
        /// A stable name for one logical producer ("order-service"): every instance registered
        /// under it gets the same producer id and a newer epoch, so the newest fences the older
        /// ones (their appends throw `.producerFenced`). Nil, the default: a fresh id each time.
        public var name: String?
        /// Stamp batches with the producer's id, epoch and sequences, so a retried batch is
        /// never written twice (Kafka's `enable.idempotence`, on by default since Kafka 3.0).
        /// Off, batches carry no producer id and failed batches are not retried.
        public var idempotent: Bool
        /// A partition's batch is sent once it holds this many records (1 to
        /// `Limits.maxRecordsPerBatch`).
        public var maxBatchRecords: Int
        /// ... or this many bytes of encoded records (at least 1, at most `Limits.maxBatchBytes`).
        public var maxBatchBytes: Int
        /// How long a batch that is not full may wait for more records before it is sent, in
        /// milliseconds (Kafka's `linger.ms`). 0, the default, sends it as soon as its partition
        /// is free; more trades latency for larger batches.
        public var lingerMilliseconds: Int64
        /// Records accepted but not yet appended, across partitions: past it `Producer.send(_:)`
        /// waits for appends to catch up (Kafka's `buffer.memory`, in records).
        public var maxBufferedRecords: Int
        /// How often and how patiently a batch whose append failed with an I/O error is tried
        /// again (idempotent producers only; the same sequence numbers, so a batch that was
        /// written after all is recognised and not written twice).
        public var retry: RetryPolicy

        /// Options with the defaults described above.
        public init(
            name: String? = nil, idempotent: Bool = true, maxBatchRecords: Int = 1_000, maxBatchBytes: Int = 1 << 20,
            lingerMilliseconds: Int64 = 0, maxBufferedRecords: Int = 100_000,
            retry: RetryPolicy = RetryPolicy(maxAttempts: 3, initialBackoffMilliseconds: 50)
        ) {
            self.name = name
            self.idempotent = idempotent
            self.maxBatchRecords = maxBatchRecords
            self.maxBatchBytes = maxBatchBytes
            self.lingerMilliseconds = lingerMilliseconds
            self.maxBufferedRecords = maxBufferedRecords
            self.retry = retry
        }

        /// Throws `.invalidConfig` naming the first setting out of range.
        public func validate() throws(StreamStoreError) {
            func fail(_ message: String) -> StreamStoreError { StreamStoreError(.invalidConfig, message) }
            guard (1...Limits.maxRecordsPerBatch).contains(maxBatchRecords) else {
                throw fail("maxBatchRecords must be 1 to \(Limits.maxRecordsPerBatch), not \(maxBatchRecords).")
            }
            guard (1...Limits.maxBatchBytes).contains(maxBatchBytes) else {
                throw fail("maxBatchBytes must be 1 to \(Limits.maxBatchBytes), not \(maxBatchBytes).")
            }
            guard lingerMilliseconds >= 0 else { throw fail("lingerMilliseconds must not be negative, not \(lingerMilliseconds).") }
            guard maxBufferedRecords >= 1 else { throw fail("maxBufferedRecords must be at least 1, not \(maxBufferedRecords).") }
            if let name, name.isEmpty || name.utf8.count > Limits.maxTopicNameBytes {
                throw fail("A producer name must be 1 to \(Limits.maxTopicNameBytes) bytes, not \(name.utf8.count).")
            }
            try retry.validate()
        }
    }
}
