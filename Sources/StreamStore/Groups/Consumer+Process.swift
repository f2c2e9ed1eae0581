import StreamStoreFormat
import StreamStoreLog
import Logging

/// Retries and dead letters: a record whose handler keeps failing is set
/// aside in the topic's dead-letter topic, so it never blocks the records behind it.
extension Consumer {
    /// Runs `handler` on each record of this member's partitions, retrying failures and
    /// dead-lettering records that keep failing; returns when `maxRecords` records are done
    /// with, the task is cancelled or the consumer is closed. Without `maxRecords` it follows
    /// the log like ``records``.
    ///
    /// ```swift
    /// let billing = try store.consumer(group: "billing", topic: "orders")
    /// let report = try await billing.process(retry: RetryPolicy(maxAttempts: 5)) { record in
    ///     try await charge(record)          // idempotent: delivery is at-least-once
    /// }
    /// ```
    ///
    /// For each record, in partition order:
    /// - The handler runs up to `retry.maxAttempts` times, waiting
    ///   ``RetryPolicy/delayMilliseconds(afterAttempt:)`` (through `sleep`) between runs. A
    ///   ``NonRetriableError`` ends the retries at once, and so does an event the handler could not
///   decode (`.eventVersionTooNew`, `.missingUpcaster`, `.eventDecodingFailed` from an
///   ``EventDecoder``): the record is dead-lettered, to be redriven once a reader that knows it runs.
    /// - On success the record is committed.
    /// - After the last failure the record is appended to ``Store/deadLetterTopic(for:)`` with
    ///   the `dlq-*` headers of ``DeadLetter``, made durable, logged as a warning, and only then
    ///   committed; processing moves on to the next record.
    ///
    /// So every record is processed or dead-lettered at least once. A crash after a handler
    /// succeeded but before its commit runs the handler again after the restart; a crash between
    /// the dead-letter append and the commit retries the record and can leave it in the
    /// dead-letter topic twice (``Store/redriveDeadLetters(topic:group:limit:dryRun:filter:)``
    /// then redrives both; a de-duplicated origin topic drops the second).
    ///
    /// Cancelling the task stops processing without committing a record that is not done: the
    /// handler's own failure after the cancel, or a cancelled wait between retries, leaves the
    /// record uncommitted and out of the dead-letter topic, for the next run. A `sleep` that
    /// throws stops processing the same way.
    ///
    /// Errors of the handler never escape; errors of the store (reading, appending the dead
    /// letter, committing) are thrown, with nothing committed for the record at hand. Such an
    /// error lists in `writtenRecords` where each dead letter this call appended landed (its
    /// partition and offset in ``Store/deadLetterTopic(for:)``), the last one included when
    /// only its commit failed, so the report the throw takes away is not needed to find them.
    /// An invalid `retry` is `.invalidConfig`.
    ///
    /// - Parameters:
    ///   - retry: How often and how patiently to retry.
    ///   - maxRecords: Return after this many records are processed or dead-lettered (nil: keep
    ///     following the log).
    ///   - sleep: Waits between attempts; replace it in tests to record the waits instead.
    ///   - onFailure: Told of every failed run and what follows it.
    ///   - handler: Processes one record; throwing fails this run.
    nonisolated(nonsending)
    public func process(
        retry: RetryPolicy = RetryPolicy(),
        maxRecords: Int? = nil,
        sleep: (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        onFailure: ((ProcessingFailure) -> Void)? = nil,
        handler: (StoredRecord) async throws -> Void
    ) async throws(StreamStoreError) -> ProcessingReport {
        try retry.validate()
        if let maxRecords, maxRecords < 0 {
            throw StreamStoreError(.invalidArgument, "maxRecords must not be negative, not \(maxRecords).")
        }
        var report = ProcessingReport()
        // Every dead letter appended, also one whose commit then failed.
        var appended: [RecordOffset] = []
        do throws(StreamStoreError) {
            var iterator = records.makeAsyncIterator()
            while maxRecords.map({ report.handledRecords < $0 }) ?? true {
                guard let record = try await iterator.next() else { break }
                let outcome = await attempt(record, retry: retry, sleep: sleep, onFailure: onFailure, handler: handler)
                switch outcome {
                case .succeeded(let retries):
                    report.retriedAttempts += retries
                    guard try await commitUnlessClosed(record) else { return report }
                    report.processedRecords += 1
                case .failed(let error, let attempts):
                    report.retriedAttempts += attempts - 1
                    let receipt = try await deadLetter(record, error: error, attempts: attempts)
                    appended.append(RecordOffset(partition: receipt.deadLetterPartition, offset: receipt.deadLetterOffset))
                    guard try await commitUnlessClosed(record) else { return report }
                    report.deadLetters.append(receipt)
                case .stopped(let retries):
                    report.retriedAttempts += retries
                    return report
                }
            }
            return report
        } catch {
            guard !appended.isEmpty, error.writtenRecords == nil else { throw error }
            var failure = error
            failure.writtenRecords = appended
            throw failure
        }
    }

    /// How the runs of the handler on one record ended.
    private enum Outcome {
        /// It succeeded after this many retries.
        case succeeded(retries: Int)
        /// Every allowed run failed (or one failed for good); this was the last error.
        case failed(any Error, attempts: Int)
        /// Cancelled (or the wait threw) after this many retries: the record is not done.
        case stopped(retries: Int)
    }

    nonisolated(nonsending)
    private func attempt(
        _ record: StoredRecord, retry: RetryPolicy, sleep: (Duration) async throws -> Void, onFailure: ((ProcessingFailure) -> Void)?,
        handler: (StoredRecord) async throws -> Void
    ) async -> Outcome {
        var attempt = 1
        while true {
            do {
                try await handler(record)
                return .succeeded(retries: attempt - 1)
            } catch {
                // A failure after a cancel is most likely the cancel itself, not the record's fault.
                if Task.isCancelled { return .stopped(retries: attempt - 1) }
                // An event that does not decode (too new, no upcaster) fails the same way every time.
                let isPermanent = error is any NonRetriableError || (error as? StreamStoreError)?.isEventDecodingFailure == true
                guard attempt < retry.maxAttempts, !isPermanent else {
                    onFailure?(ProcessingFailure(record: record, attempt: attempt, error: error, nextStep: .deadLetter))
                    return .failed(error, attempts: attempt)
                }
                let delayMilliseconds = retry.delayMilliseconds(afterAttempt: attempt)
                onFailure?(ProcessingFailure(record: record, attempt: attempt, error: error, nextStep: .retry(afterMilliseconds: delayMilliseconds)))
                do {
                    try await sleep(.milliseconds(delayMilliseconds))
                } catch {
                    return .stopped(retries: attempt - 1)
                }
                if Task.isCancelled { return .stopped(retries: attempt - 1) }
                attempt += 1
            }
        }
    }

    /// Appends `record`'s dead letter and makes it durable.
    private func deadLetter(_ record: StoredRecord, error: any Error, attempts: Int) async throws(StreamStoreError) -> DeadLetterReceipt {
        let store = try group.liveStore()
        let dlq = try store.deadLetterTopic(for: topic.name)
        let letter = DeadLetter.record(
            for: record, originTopic: topic.name, group: group.name, error: String(describing: error), attempts: attempts,
            failedAtMilliseconds: store.options.clock.nowMilliseconds())
        let appended = try await dlq.append([letter], partition: 0).offset(ofRecordAt: 0)
        // The commit that follows must never survive a dead letter that a crash takes back.
        if dlq.config.flush != .everyAppend { try await dlq.flush() }
        let receipt = DeadLetterReceipt(
            originPartition: record.partition, originOffset: record.offset, deadLetterTopic: dlq.name, deadLetterPartition: appended.partition,
            deadLetterOffset: appended.offset, attempts: attempts, error: letter.headerString(.deadLetterError) ?? "")
        deadLettered(receipt, logger: store.options.logger)
        store.metrics.recordDeadLetter(topic: topic.name)
        return receipt
    }

    private func deadLettered(_ receipt: DeadLetterReceipt, logger: Logger) {
        logger.warning(
            "Dead-lettered \(topic.name)[\(receipt.originPartition)] offset \(receipt.originOffset) for group \(group.name) after \(receipt.attempts) attempt(s), as \(receipt.deadLetterTopic)[\(receipt.deadLetterPartition)] offset \(receipt.deadLetterOffset): \(receipt.error)")
    }

    /// Commits `record`; false when the consumer was closed meanwhile (its partitions are free,
    /// and their next owner delivers the record again).
    private func commitUnlessClosed(_ record: StoredRecord) async throws(StreamStoreError) -> Bool {
        do throws(StreamStoreError) {
            try await commit(record)
            return true
        } catch where error.code == .partitionNotAssigned && isClosed {
            return false
        }
    }
}
