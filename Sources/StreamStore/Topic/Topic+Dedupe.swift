import StreamStoreFormat
import StreamStoreLog
/// Producer de-duplication by `message-id` (docs/FORMAT.md, "The de-duplication window";
/// ``TopicConfig/dedupeWindowMilliseconds``).
///
/// The check, the write and the insertion of the new ids happen under the topic's window lock,
/// so two appends of one id (to the same partition or to two) cannot both pass. The fsync is
/// waited for outside it. A duplicate is acknowledged only once its original is as durable as
/// the flush policy promises, and ids whose append failed its fsync are forgotten again, so a
/// retry of an unacknowledged record is written.
///
/// A record redriven from the dead-letter topic carries its message's `message-id` and a
/// `redrive-count`: it is a new delivery of a message the window may still hold (its original,
/// or an earlier redrive). So the window keys a record by its id and its redrive count
/// (``dedupeKey(messageID:redriveCount:)``): each redrive is written once, and a repeat of the
/// same redrive (a crash between its append and the redrive's commit) is a duplicate.
extension Topic {
    func appendDeduplicating(_ batch: RecordBatch, to partition: Partition, expectedNextOffset: Int64?) async throws(StreamStoreError) -> AppendReceipt {
        let values = batch.headerValues(forKey: HeaderName.messageID.rawValue)
        guard values.contains(where: { $0 != nil }) else { return try await partition.append(batch, expectedNextOffset: expectedNextOffset) }
        for value in values {
            if let id = value, id.count > Limits.maxMessageIDBytes {
                throw StreamStoreError(
                    .invalidMessageID,
                    "A message-id of \(id.count) bytes is longer than the \(Limits.maxMessageIDBytes) bytes a de-duplicated topic keeps; use a shorter id (a UUID is 36).",
                    topic: name, partition: partition.id)
            }
        }
        // Keyed by id and redrive count (``dedupeKey(messageID:redriveCount:)``).
        let redriveCounts = batch.headerValues(forKey: HeaderName.redriveCount.rawValue)
        let ids = zip(values, redriveCounts).map { value, count in value.map { MessageID(Topic.dedupeKey(messageID: $0, redriveCount: count)) } }
        let now = partition.context.clock.nowMilliseconds()
        // An idempotent producer's batches are de-duplicated by their sequence numbers: dropping
        // records from them would break the sequence ranges. Their ids still enter the window.
        let checks = batch.producerId < 0
        let (written, duplicates) = try dedupe.withLock { (window) throws(StreamStoreError) -> (Partition.Written?, [DuplicateRecord]) in
            guard window.isActive else { return (nil, []) }
            window.expire(now: now)
            var duplicates: [DuplicateRecord] = []
            var dropped = [Bool](repeating: false, count: ids.count)
            var droppedCount = 0
            var firstInBatch: [MessageID: Int] = [:]
            firstInBatch.reserveCapacity(ids.count)
            var repeatsInBatch: [(index: Int, first: Int, id: MessageID)] = []
            for (index, id) in ids.enumerated() {
                guard let id else { continue }
                if checks, let original = window.lookup(id) {
                    duplicates.append(DuplicateRecord(
                        index: index, reason: .messageID(String(decoding: values[index]!, as: UTF8.self)),
                        originalPartition: original.partition, originalOffset: original.offset))
                    dropped[index] = true
                    droppedCount += 1
                } else if checks, let first = firstInBatch[id] {
                    repeatsInBatch.append((index, first, id))
                    dropped[index] = true
                    droppedCount += 1
                } else if firstInBatch[id] == nil {
                    firstInBatch[id] = index
                }
            }
            guard droppedCount < batch.count else {
                return (nil, duplicates)
            }
            let kept = droppedCount == 0 ? batch : batch.removing(recordsAt: Set(dropped.indices.filter { dropped[$0] }))
            let written = try partition.write(kept, expectedNextOffset: expectedNextOffset)
            guard !written.receipt.isDuplicate else { return (written, duplicates) }
            // Record number i of the batch as given is written record i - (records dropped before i).
            var droppedBefore = [Int](repeating: 0, count: batch.count)
            var running = 0
            for index in 0..<batch.count {
                droppedBefore[index] = running
                if dropped[index] { running += 1 }
            }
            let base = written.receipt.baseOffset
            for (id, index) in firstInBatch {
                window.insert(id, partition: partition.id, offset: base + Int64(index - droppedBefore[index]), timestamp: now)
            }
            for repeated in repeatsInBatch {
                duplicates.append(DuplicateRecord(
                    index: repeated.index, reason: .messageID(String(decoding: values[repeated.index]!, as: UTF8.self)),
                    originalPartition: partition.id, originalOffset: base + Int64(repeated.first - droppedBefore[repeated.first])))
            }
            return (written, duplicates)
        }
        guard written != nil || !duplicates.isEmpty else {
            // De-duplication was turned off between the config read and the lock.
            return try await partition.append(batch, expectedNextOffset: expectedNextOffset)
        }
        if !duplicates.isEmpty { metrics.dedupeHits.increment(by: Int64(duplicates.count)) }
        var receipt: AppendReceipt
        if let written {
            if let end = written.durableEnd {
                do {
                    try await partition.groupCommit.waitDurable(upTo: end)
                } catch {
                    let start = written.receipt.baseOffset
                    dedupe.withLock { $0.forget(partition: partition.id, fromOffset: start) }
                    throw error
                }
            }
            receipt = written.receipt
        } else {
            let end = partition.offsets.logEnd
            receipt = AppendReceipt(partition: partition.id, baseOffset: end, lastOffset: end - 1, timestamp: now)
        }
        try await waitUntilDurable(duplicates)
        receipt.duplicates = (receipt.duplicates + duplicates).sorted { $0.index < $1.index }
        return receipt
    }

    /// A duplicate is acknowledged like its original: under `.everyAppend` only once the original
    /// is on disk (it may still be waiting for its group commit).
    private func waitUntilDurable(_ duplicates: [DuplicateRecord]) async throws(StreamStoreError) {
        guard config.flush == .everyAppend else { return }
        var ends: [Int: Int64] = [:]
        for duplicate in duplicates {
            ends[duplicate.originalPartition] = max(ends[duplicate.originalPartition] ?? 0, duplicate.originalOffset + 1)
        }
        for (index, end) in ends.sorted(by: { $0.key < $1.key }) where partitions.indices.contains(index) {
            try await partitions[index].groupCommit.waitDurable(upTo: end)
        }
    }

    var dedupeEnabled: Bool { config.dedupeWindowMilliseconds != nil }

    /// Makes the window match the topic's settings, rebuilding it from the log when it is new or
    /// its settings changed: for each partition, the records from the first whose timestamp is
    /// inside the window to the log end, oldest first. Logs what it read. The window's lock is
    /// held throughout, so de-duplicated appends wait for the rebuilt window.
    func rebuildDedupeWindow(now: Int64) {
        dedupe.withLock { window in window = readDedupeWindow(now: now) }
    }

    private func readDedupeWindow(now: Int64) -> DedupeWindow {
        let config = self.config
        guard let windowMilliseconds = config.dedupeWindowMilliseconds else { return .inactive }
        let (cutoff, overflow) = now.subtractingReportingOverflow(windowMilliseconds)
        let since = overflow ? Int64.min : cutoff
        var found: [(timestamp: Int64, id: [UInt8], partition: Int, offset: Int64)] = []
        for partition in partitions {
            do {
                var offset = try partition.offset(forTimestamp: since)
                let end = partition.offsets.logEnd
                while offset < end {
                    let batches = try partition.readBatches(from: offset, maxBytes: 4 << 20)
                    guard let last = batches.last else { break }
                    for batch in batches {
                        try batch.forEachRecord(from: offset) { record in
                            guard record.timestamp >= since, case .some(.some(let id)) = record.headerValue(forKey: HeaderName.messageID.rawValue),
                                id.count <= Limits.maxMessageIDBytes
                            else { return }
                            let count = record.headerValue(forKey: HeaderName.redriveCount.rawValue) ?? nil
                            found.append((record.timestamp, Topic.dedupeKey(messageID: Array(id), redriveCount: count), partition.id, record.offset))
                        }
                    }
                    offset = last.nextOffset
                }
            } catch {
                // The window is a best effort over what can be read: a damaged batch costs the
                // ids behind it, never the open (and verify reports the damage).
                partition.context.logger.error("De-duplication window: stopped reading \(name)/\(partition.id) at an unreadable batch: \(error)")
            }
        }
        found.sort { $0.timestamp < $1.timestamp || ($0.timestamp == $1.timestamp && ($0.partition, $0.offset) < ($1.partition, $1.offset)) }
        var window = DedupeWindow(windowMilliseconds: windowMilliseconds, capacity: config.dedupeMaxMessageIDs)
        for entry in found.suffix(config.dedupeMaxMessageIDs) {
            window.insert(MessageID(entry.id), partition: entry.partition, offset: entry.offset, timestamp: entry.timestamp)
        }
        if !found.isEmpty {
            partitions.first?.context.logger.info("De-duplication window of \(name): \(window.count) message ids from the last \(windowMilliseconds) ms.")
        }
        return window
    }

    /// The window's key for a record: its message id, followed by a zero byte and its redrive
    /// count when it has one (a positive decimal `redrive-count` header). Message ids are text
    /// (a UUID, an order number), which has no zero bytes, so a plain id never looks like a
    /// redriven one.
    static func dedupeKey(messageID: [UInt8], redriveCount: (some Collection<UInt8>)?) -> [UInt8] {
        guard let count = HeaderName.redriveCount(redriveCount) else { return messageID }
        return messageID + [0] + Array(String(count).utf8)
    }
}
