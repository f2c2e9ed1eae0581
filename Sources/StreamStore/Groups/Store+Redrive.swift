import StreamStoreFormat
import StreamStoreLog
extension Store {
    /// Appends the dead letters of `topic` back to `topic`, so its consumers process them again
    /// (after the bug that failed them is fixed), and records the progress as consumer group
    /// `group`'s commits on the dead-letter topic: a second run redrives only what was
    /// dead-lettered since.
    ///
    /// ```swift
    /// let preview = try await store.redriveDeadLetters(topic: "orders", dryRun: true)
    /// let report = try await store.redriveDeadLetters(topic: "orders", limit: 100) { $0.error.contains("timeout") }
    /// ```
    ///
    /// Each dead letter from the group's committed offset (or the log start) up to the log end
    /// as it was when the run began:
    /// - A record that is not a valid dead letter of `topic` (a `dlq-*` header missing or
    ///   malformed, or another origin topic) is passed over and reported in
    ///   ``RedriveReport/skipped`` with its `.invalidDeadLetter` error.
    /// - A dead letter that `filter` rejects is passed over (``RedriveReport/filteredOutRecords``).
    ///   A group passes over a record once: to redrive what one filter left, run another filter
    ///   under another group name (it starts from the log start), or reset the group.
    /// - Any other is appended to its origin partition as ``DeadLetter/redriveRecord``: key,
    ///   value and headers as they were, without the `dlq-*` headers, `redrive-count` one up,
    ///   stamped with the time of the redrive. Once that append is durable, the group commits
    ///   the offset after the dead letter.
    ///
    /// `limit` bounds the dead letters redriven (passed-over records do not count). With
    /// `dryRun` nothing is appended or committed, and the report says what would be redriven.
    ///
    /// A crash between an append and its commit redrives that dead letter again on the next run
    /// (at-least-once). When `topic` has a de-duplication window
    /// (``TopicConfig/dedupeWindowMilliseconds``) and the record a `message-id`, the repeat is
    /// dropped (``RedrivenDeadLetter/Outcome/duplicate(partition:offset:)``): the window tells
    /// redrives of a message apart by their `redrive-count`, so the first redrive is written even
    /// while the window still holds the original. Consumers of `topic` must stay idempotent
    /// either way.
    ///
    /// Every group reading `topic` gets the redriven records, not only the one that failed them
    /// (each dead letter names it in `dlq-group`). A redrive is a member of `group` on the
    /// dead-letter topic while it runs: a second one of the same group (in this process or
    /// another) fails with `.groupActive`, and so does one while a ``Consumer`` of that group
    /// reads the dead-letter topic. `.unknownTopic` when `topic` does not exist; a topic that never
    /// dead-lettered a record has nothing to redrive.
    nonisolated(nonsending)
    public func redriveDeadLetters(
        topic topicName: String, group groupName: String = DeadLetter.defaultRedriveGroup, limit: Int? = nil, dryRun: Bool = false,
        filter: ((DeadLetter) -> Bool)? = nil
    ) async throws(StreamStoreError) -> RedriveReport {
        if let limit, limit < 0 { throw StreamStoreError(.invalidArgument, "limit must not be negative, not \(limit).") }
        let origin = try topic(topicName)
        let group = try self.group(groupName)
        let name = DeadLetter.topicName(for: topicName)
        var run = Redrive(origin: origin, report: RedriveReport(deadLetterTopic: name, group: groupName, dryRun: dryRun), limit: limit, filter: filter)
        guard topicNames.contains(name) else { return run.report }
        let dlq = try topic(name)
        if dryRun {
            try await run.read(dlq, group: group)
            return run.report
        }
        let coordinator = try group.coordinator(for: dlq)
        let member = try coordinator.join()
        defer { coordinator.leave(member) }
        guard coordinator.sync(member).owned.count == dlq.partitionCount else {
            throw StreamStoreError(
                .groupActive, "Group \(quoted(groupName)) is already reading \(quoted(name)) (another redrive, or a consumer, in this process or another); wait for it to finish.",
                topic: name)
        }
        do throws(StreamStoreError) {
            try await run.read(dlq, group: group)
        } catch {
            // What was redriven before the failure is in the origin topic: say exactly where, so
            // the caller's acknowledgement does not depend on a report it never receives.
            throw Self.redriveFailure(error, report: run.report, origin: topicName)
        }
        if !run.report.redriven.isEmpty {
            options.logger.info("Redrove \(run.report.redriven.count) dead letter(s) from \(name) into \(topicName) as group \(groupName).")
        }
        return run.report
    }
}

extension Store {
    /// `error` with the places of the dead letters redriven before it (`writtenRecords`, in the
    /// order they were redriven) and a sentence saying how many; unchanged when none was.
    static func redriveFailure(_ error: StreamStoreError, report: RedriveReport, origin: String) -> StreamStoreError {
        let places: [RecordOffset?] = report.redriven.map { letter in
            switch letter.outcome {
            case .appended(let offset): return RecordOffset(partition: letter.partition, offset: offset)
            case .duplicate(let partition, let offset): return RecordOffset(partition: partition, offset: offset)
            case .wouldAppend: return nil
            }
        }
        guard places.contains(where: { $0 != nil }) else { return error }
        var failure = error
        failure.message += " Before the failure, \(places.count) dead letter(s) were redriven into \(quoted(origin)); the next run starts after the last one committed."
        failure.writtenRecords = places
        return failure
    }
}

/// One redrive run: what it reads, and what it found so far.
private struct Redrive {
    let origin: Topic
    var report: RedriveReport
    let limit: Int?
    let filter: ((DeadLetter) -> Bool)?

    var isFull: Bool { limit.map { report.redriven.count >= $0 } ?? false }

    /// Reads every partition of the dead-letter topic from the group's commit to the log end as
    /// it is now, redriving (or passing over) each record.
    nonisolated(nonsending)
    mutating func read(_ dlq: Topic, group: ConsumerGroup) async throws(StreamStoreError) {
        let committed = try group.committedOffsets(topic: dlq.name)
        for partition in 0..<dlq.partitionCount where !isFull {
            let (logStart, logEnd) = try dlq.partition(partition).offsets
            let from = max(committed[partition] ?? logStart, logStart)
            var next = from
            var uncommitted = false
            scan: while next < logEnd {
                let records = try dlq.read(partition: partition, from: next)
                guard !records.isEmpty else { break }
                for record in records {
                    guard record.offset < logEnd, !isFull else { break scan }
                    next = record.offset + 1
                    guard try await redrive(record, from: dlq) else {
                        uncommitted = true
                        continue
                    }
                    if !report.dryRun {
                        try await group.commit(topic: dlq.name, offsets: [partition: next])
                        uncommitted = false
                    }
                }
            }
            if uncommitted && !report.dryRun { try await group.commit(topic: dlq.name, offsets: [partition: next]) }
            report.partitions.append(RedriveReport.PartitionProgress(partition: partition, fromOffset: from, nextOffset: next))
        }
    }

    /// Redrives one record of the dead-letter topic, durably; false when it is passed over.
    nonisolated(nonsending)
    private mutating func redrive(_ record: StoredRecord, from dlq: Topic) async throws(StreamStoreError) -> Bool {
        let letter: DeadLetter
        do throws(StreamStoreError) {
            letter = try DeadLetter(record)
            guard letter.originTopic == origin.name else {
                throw StreamStoreError(
                    .invalidDeadLetter, "The record at offset \(record.offset) is a dead letter of topic \(quoted(letter.originTopic)), not of \(quoted(origin.name)).",
                    partition: record.partition, offset: record.offset)
            }
        } catch {
            report.skipped.append(SkippedDeadLetter(partition: record.partition, offset: record.offset, error: error.with(topic: dlq.name, partition: record.partition)))
            return false
        }
        if let filter, !filter(letter) {
            report.filteredOutRecords += 1
            return false
        }
        let target: Int
        if origin.partitions.indices.contains(letter.originPartition) {
            target = letter.originPartition
        } else {
            target = record.key.map { origin.partition(forKey: Array($0)) } ?? 0
        }
        guard !report.dryRun else {
            report.redriven.append(RedrivenDeadLetter(deadLetter: letter, partition: target, outcome: .wouldAppend))
            return true
        }
        let receipt = try await origin.append([letter.redriveRecord], partition: target)
        // The commit that follows must never survive a redriven record that a crash takes back.
        if origin.config.flush != .everyAppend { try await origin.partition(target).flush() }
        let outcome: RedrivenDeadLetter.Outcome
        if let duplicate = receipt.duplicates.first {
            outcome = .duplicate(partition: duplicate.originalPartition, offset: duplicate.originalOffset)
        } else {
            outcome = .appended(offset: receipt.baseOffset)
        }
        report.redriven.append(RedrivenDeadLetter(deadLetter: letter, partition: target, outcome: outcome))
        return true
    }
}
