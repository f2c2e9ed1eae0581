import StreamStore

/// A consumer's records handled several at a time, each partition committed only past records
/// that are done with (``CommitFrontier``): what a ``Responder`` and a ``SagaManager`` run.
enum ConsumerLoop {
    /// What handling one record came to.
    enum Outcome: Sendable {
        /// Done with: a commit may pass it.
        case done
        /// Left for the next run (cancelled part way): no commit passes it.
        case abandoned
    }

    /// Reads `consumer`'s records until the task is cancelled, the consumer is closed, or
    /// `maxRecords` were started; handles up to `maxConcurrent` at once; commits as the
    /// frontiers move, from one task so commits of a partition never go backwards. Returns once
    /// every started record is handled and every commit written; throws the first failure.
    ///
    /// With `orderedBy`, records whose key it names are handled one after another in offset
    /// order (records of one key share a partition); records it gives no key go at once.
    static func run(
        _ consumer: Consumer, maxConcurrent: Int, maxRecords: Int?, orderedBy key: (@Sendable (StoredRecord) -> String?)? = nil,
        handle: @escaping @Sendable (StoredRecord) async -> Result<Outcome, MessagingError>
    ) async throws(MessagingError) {
        let frontier = Locked(CommitFrontier())
        let serializer = KeyedSerializer()
        // Frontiers that moved, newest per partition; the committer takes them all at each wake,
        // so commits (an fsync each under `.everyAppend`) keep up however fast records finish.
        let pending = Locked<[Int: Int64]>([:])
        let (wakes, waking) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let committer = Task { () -> StreamStoreError? in
            var committed: [Int: Int64] = [:]
            var iterator = wakes.makeAsyncIterator()
            while true {
                let more = await iterator.next() != nil
                let offsets = pending.withLock { pending in
                    defer { pending = [:] }
                    return pending
                }
                for (partition, next) in offsets.sorted(by: { $0.key < $1.key }) where next > committed[partition] ?? -1 {
                    do throws(StreamStoreError) {
                        try await consumer.commit(partition: partition, nextOffset: next)
                        committed[partition] = next
                    } catch {
                        // A partition that moved: its new owner handles those records again.
                        guard error.code == .partitionNotAssigned else { return error }
                    }
                }
                if !more { return nil }
            }
        }
        let failure: MessagingError? = await withTaskGroup(of: MessagingError?.self) { group in
            var iterator = consumer.records.makeAsyncIterator()
            var running = 0
            var started = 0
            var failure: MessagingError?
            while failure == nil, maxRecords.map({ started < $0 }) ?? true {
                if running >= maxConcurrent, let done = await group.next() {
                    running -= 1
                    failure = done
                    continue
                }
                let record: StoredRecord?
                do throws(StreamStoreError) {
                    record = try await iterator.next()
                } catch {
                    failure = MessagingError(error)
                    break
                }
                guard let record else { break }
                frontier.withLock { $0.start(partition: record.partition, offset: record.offset) }
                started += 1
                running += 1
                let turn = key?(record).map { ($0, serializer.enqueue($0)) }
                group.addTask {
                    if let turn { await turn.1.wait() }
                    let outcome = await handle(record)
                    if let turn { serializer.release(turn.0) }
                    switch outcome {
                    case .success(.done):
                        if let next = frontier.withLock({ $0.finish(partition: record.partition, offset: record.offset) }) {
                            pending.withLock { $0[record.partition] = max($0[record.partition] ?? -1, next) }
                            waking.yield()
                        }
                        return nil
                    case .success(.abandoned): return nil
                    case .failure(let error): return error
                    }
                }
            }
            for await done in group where failure == nil { failure = done }
            return failure
        }
        waking.finish()
        let commitFailure = await committer.value
        if let failure { throw failure }
        if let commitFailure { throw MessagingError(commitFailure) }
    }
}
