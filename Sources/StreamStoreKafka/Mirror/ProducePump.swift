import NIOCore
import StreamStore
import StreamStoreFormat
import StreamStoreLog

/// Sends the records of the partitions one broker leads, in order, as idempotent batches with
/// `acks=all`, keeping up to ``KafkaMirrorConfiguration/maxInFlightRequests`` requests in
/// flight on one connection, and commits the store's `mirror-<name>` group behind the
/// acknowledgements. The first error ends it (and the session).
struct ProducePump {
    let mirror: KafkaMirror
    let client: KafkaClient
    let leader: Int32
    let cursors: [ProduceCursor]
    let group: ConsumerGroup
    let producerId: Int64
    let producerEpoch: Int16

    private var configuration: KafkaMirrorConfiguration { mirror.configuration }

    /// What one request carried for one partition.
    private struct Sent {
        let cursor: ProduceCursor
        let nextOffset: Int64
        let records: Int64
        let bytes: Int64
    }

    /// Bytes of one produce request, all partitions together.
    private var maxRequestBytes: Int { configuration.maxBatchBytes * 8 }

    func run() async throws {
        let connection = try await client.connection(node: leader)
        var inFlight: [(answer: KafkaConnection.Answer<ProduceResponse>, sent: [Sent])] = []
        var committed: [String: Int64] = [:]
        for cursor in cursors { committed[cursor.key] = cursor.acknowledged }
        var lastCommit = ContinuousClock.now
        var turn = 0
        while true {
            while inFlight.count < configuration.maxInFlightRequests, !Task.isCancelled {
                guard let (request, sent) = try nextRequest(turn: &turn) else { break }
                inFlight.append((try connection.start(request, expecting: ProduceResponse.self), sent))
            }
            if inFlight.isEmpty {
                try await commit(&committed)
                lastCommit = ContinuousClock.now
                if Task.isCancelled || isFinished { return }
                await waitForAppends()
                continue
            }
            let oldest = inFlight.removeFirst()
            do {
                let response = try await oldest.answer.answer()
                try acknowledge(response, oldest.sent)
            } catch {
                // The requests still in flight may yet be appended: wait for their answers, so
                // the next session's look at the log ends comes after them (a broker may answer
                // requests of one connection out of order).
                for pending in inFlight { _ = try? await pending.answer.answer() }
                throw error
            }
            reportLag()
            if ContinuousClock.now - lastCommit >= .milliseconds(configuration.commitIntervalMilliseconds) {
                try await commit(&committed)
                lastCommit = ContinuousClock.now
            }
        }
    }

    /// A one-shot run's pump is done once every partition is acknowledged up to its stop.
    private var isFinished: Bool {
        cursors.allSatisfy { cursor in
            guard let stop = cursor.stopAt else { return false }
            return cursor.acknowledged >= stop
        }
    }

    /// The next request: one batch for each partition (taken in turns) that has records to
    /// send, up to ``maxRequestBytes``; nil when none has.
    private func nextRequest(turn: inout Int) throws -> (ProduceRequest, [Sent])? {
        var topics: [String: ProduceRequest.Topic] = [:]
        var sent: [Sent] = []
        var bytes = 0
        for step in 0..<cursors.count where bytes < maxRequestBytes {
            let cursor = cursors[(turn + step) % cursors.count]
            guard let (records, part) = try encodeBatch(for: cursor) else { continue }
            var partition = ProduceRequest.Partition()
            partition.index = Int32(cursor.partition)
            partition.records = records
            var topic = topics[cursor.topic.name] ?? ProduceRequest.Topic()
            topic.name = cursor.topic.name
            topic.partitions.append(partition)
            topics[cursor.topic.name] = topic
            bytes += records.readableBytes
            sent.append(part)
            cursor.next = part.nextOffset
        }
        turn = (turn + 1) % max(cursors.count, 1)
        guard !sent.isEmpty else { return nil }
        var request = ProduceRequest()
        request.acks = -1
        request.timeoutMilliseconds = Int32(clamping: configuration.requestTimeoutMilliseconds)
        request.topics = topics.values.sorted { $0.name < $1.name }
        return (request, sent)
    }

    /// The partition's records from its next offset on, as one idempotent batch of at most
    /// ``KafkaMirrorConfiguration/maxBatchBytes`` (one record more when a single record is
    /// larger): keys, values, headers and timestamps as stored, timestamps as create time.
    private func encodeBatch(for cursor: ProduceCursor) throws -> (ByteBuffer, Sent)? {
        let end = try cursor.topic.logEndOffset(partition: cursor.partition)
        let limit = cursor.stopAt.map { min($0, end) } ?? end
        guard cursor.next < limit else { return nil }
        let maxBytes = configuration.maxBatchBytes
        var batch = RecordBatch(capacityBytes: min(maxBytes, 1 << 20) + 4096)
        batch.producerId = producerId
        batch.producerEpoch = producerEpoch
        batch.baseSequence = cursor.sequence(of: cursor.next)
        var offset = cursor.next
        var payloadBytes: Int64 = 0
        var isFull = false
        while offset < limit, !isFull {
            let stored = try cursor.topic.readBatches(partition: cursor.partition, from: offset, maxBytes: maxBytes)
            guard !stored.isEmpty else { break }
            for storedBatch in stored where !isFull {
                try storedBatch.forEachRecord(from: offset) { (record) throws(StreamStoreError) in
                    guard !isFull, record.offset < limit else {
                        isFull = true
                        return
                    }
                    let headers: [RecordHeader] = record.headerCount > 0 ? record.headers : []
                    let size = RecordSize.payloadBytes(key: record.key?.count, value: record.value?.count, headers: headers)
                    if batch.count > 0, batch.byteCount + size + 32 > maxBytes {
                        isFull = true
                        return
                    }
                    try batch.append(key: record.key, value: record.value, headers: headers, timestamp: record.timestamp)
                    payloadBytes += Int64(size)
                    offset = record.offset + 1
                }
            }
        }
        guard !batch.isEmpty else { return nil }
        let bytes = batch.encoded(baseOffset: 0, appendTimeMilliseconds: 0, partitionLeaderEpoch: -1)
        return (ByteBuffer(bytes: bytes), Sent(cursor: cursor, nextOffset: offset, records: Int64(batch.count), bytes: payloadBytes))
    }

    /// Moves each partition's acknowledged offset past its batch; an error of any partition
    /// ends the pump.
    private func acknowledge(_ response: ProduceResponse, _ sent: [Sent]) throws(KafkaClientError) {
        var answers: [String: Int16] = [:]
        for topic in response.topics {
            for partition in topic.partitions { answers[MirrorState.key(topic: topic.name, partition: Int(partition.index))] = partition.errorCode }
        }
        for part in sent {
            guard let code = answers[part.cursor.key] else {
                throw KafkaClientError(.protocolViolation, "The produce answer says nothing of \"\(part.cursor.topic.name)\"[\(part.cursor.partition)].")
            }
            // DUPLICATE_SEQUENCE_NUMBER (46) says the broker holds records of this batch already,
            // not that it holds all of them (Tansu answers it for any batch that starts below
            // the sequence it expects): the batch is not counted, and the session ends, so that
            // the next one resumes after what the cluster's log really holds.
            guard code == 0 else {
                throw KafkaClientError.broker(code, "Produce to \"\(part.cursor.topic.name)\"[\(part.cursor.partition)]")
            }
            part.cursor.acknowledged = part.nextOffset
            mirror.acknowledged(records: part.records, bytes: part.bytes)
        }
    }

    private func reportLag() {
        for cursor in cursors {
            let end = (try? cursor.topic.logEndOffset(partition: cursor.partition)) ?? cursor.acknowledged
            mirror.setLag(cursor.key, records: max(0, end - cursor.acknowledged))
        }
    }

    /// Commits the acknowledged offsets that moved since the last commit.
    private func commit(_ committed: inout [String: Int64]) async throws {
        reportLag()
        var byTopic: [String: [Int: Int64]] = [:]
        for cursor in cursors where committed[cursor.key] != cursor.acknowledged {
            byTopic[cursor.topic.name, default: [:]][cursor.partition] = cursor.acknowledged
        }
        for (topic, offsets) in byTopic {
            try await group.commit(topic: topic, offsets: offsets)
            for (partition, offset) in offsets { committed[MirrorState.key(topic: topic, partition: partition)] = offset }
        }
    }

    /// Returns when a partition of this pump has new records, after a second at the latest
    /// (so progress is committed and cancellation seen), or at once for a one-shot run.
    private func waitForAppends() async {
        guard configuration.follow else { return }
        let wakeup = Wakeup()
        var watched: [Partition] = []
        for cursor in cursors {
            guard let partition = try? cursor.topic.partition(cursor.partition) else { continue }
            partition.notify(wakeup, whenEndPasses: cursor.next)
            watched.append(partition)
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await wakeup.wait() }
            group.addTask { try? await Task.sleep(for: .seconds(1)) }
            await group.next()
            group.cancelAll()
        }
        for partition in watched { partition.cancelNotify(wakeup) }
    }
}
