import NIOCore
import StreamStore
import StreamStoreFormat
import StreamStoreLog

/// Fetches the partitions one broker leads and appends their records to the store in order,
/// then commits the cluster's `mirror-<name>` group behind the store's durable appends. The
/// first error ends it (and the session).
struct FetchPump {
    let mirror: KafkaMirror
    let client: KafkaClient
    let leader: Int32
    let cursors: [FetchCursor]
    let state: SharedMirrorState

    private var configuration: KafkaMirrorConfiguration { mirror.configuration }
    private let decompressor = ZstdDecompressor()

    init(mirror: KafkaMirror, client: KafkaClient, leader: Int32, cursors: [FetchCursor], state: SharedMirrorState) {
        self.mirror = mirror
        self.client = client
        self.leader = leader
        self.cursors = cursors
        self.state = state
    }

    func run() async throws {
        var lastCommit = ContinuousClock.now
        for cursor in cursors { cursor.committed = cursor.next }
        while true {
            let active = cursors.filter { !$0.isDone }
            if active.isEmpty || Task.isCancelled {
                try await commit()
                return
            }
            let connection = try await client.connection(node: leader)
            let waitMilliseconds: Int32 = configuration.follow ? 500 : 100
            let response = try await connection.send(
                fetchRequest(active, waitMilliseconds: waitMilliseconds), expecting: FetchResponse.self, extraTimeoutMilliseconds: Int64(waitMilliseconds))
            if response.errorCode != 0 { throw KafkaClientError.broker(response.errorCode, "Fetch") }
            for topic in response.topics {
                for partition in topic.partitions {
                    guard let cursor = active.first(where: { $0.topic.name == topic.name && $0.partition == Int(partition.index) }) else { continue }
                    try await take(partition, into: cursor)
                }
            }
            var lag: Int64 = 0
            for cursor in cursors where cursor.highWatermark >= 0 {
                mirror.setLag(cursor.key, records: max(0, cursor.highWatermark - cursor.next))
                lag += max(0, cursor.highWatermark - cursor.next)
            }
            if ContinuousClock.now - lastCommit >= .milliseconds(configuration.commitIntervalMilliseconds) {
                try await commit()
                lastCommit = ContinuousClock.now
            }
        }
    }

    private func fetchRequest(_ active: [FetchCursor], waitMilliseconds: Int32) -> FetchRequest {
        var request = FetchRequest()
        request.maxWaitMilliseconds = waitMilliseconds
        request.minBytes = 1
        request.maxBytes = Int32(clamping: configuration.maxBatchBytes * 32)
        // read_committed: records of aborted transactions come marked, to be left out.
        request.isolationLevel = 1
        var topics: [String: FetchRequest.Topic] = [:]
        for cursor in active {
            var partition = FetchRequest.Partition()
            partition.index = Int32(cursor.partition)
            partition.fetchOffset = cursor.next
            partition.maxBytes = Int32(clamping: max(configuration.maxBatchBytes * 2, 1 << 20))
            var topic = topics[cursor.topic.name] ?? FetchRequest.Topic()
            topic.name = cursor.topic.name
            topic.partitions.append(partition)
            topics[cursor.topic.name] = topic
        }
        request.topics = topics.values.sorted { $0.name < $1.name }
        return request
    }

    /// Appends the records of one partition's answer from the cursor's offset on.
    private func take(_ answer: FetchResponse.Partition, into cursor: FetchCursor) async throws {
        switch answer.errorCode {
        case 0: break
        case 1:
            throw KafkaClientError(
                .broker,
                "\"\(cursor.topic.name)\"[\(cursor.partition)] no longer has offset \(cursor.next) on the cluster (OFFSET_OUT_OF_RANGE): its retention removed records before they were mirrored.",
                kafkaErrorCode: 1)
        default: throw KafkaClientError.broker(answer.errorCode, "Fetch of \"\(cursor.topic.name)\"[\(cursor.partition)]")
        }
        cursor.highWatermark = answer.highWatermark
        guard let records = answer.records, records.readableBytes > 0 else { return }
        let bytes = records.withUnsafeReadableBytes { Array($0) }
        var aborted: [Int64: Int64] = [:]
        for transaction in answer.abortedTransactions ?? [] {
            aborted[transaction.producerId] = min(aborted[transaction.producerId] ?? Int64.max, transaction.firstOffset)
        }
        var writer = StoreWriter(mirror: mirror, cursor: cursor, state: state, maxBatchBytes: configuration.maxBatchBytes)
        var position = 0
        while position < bytes.count {
            let probe = bytes.withUnsafeBytes { BatchHeader.probe($0, at: position) }
            let header: BatchHeader
            switch probe {
            case .valid(let valid): header = valid
            // A fetch may end inside a batch: the rest comes with the next fetch.
            case .incomplete: position = bytes.count; continue
            case .corrupt(let reason):
                throw KafkaClientError(.protocolViolation, "A batch fetched from \"\(cursor.topic.name)\"[\(cursor.partition)] at offset \(cursor.next) is not valid: \(reason).")
            }
            defer { position += header.totalBytes }
            guard header.nextOffset > cursor.next else { continue }
            let isTransactional = header.attributes & BatchHeader.Attribute.transactional != 0
            if header.isControl {
                aborted[header.producerId] = nil
                writer.skip(to: header.nextOffset)
                continue
            }
            if isTransactional, let first = aborted[header.producerId], header.baseOffset >= first {
                writer.skip(to: header.nextOffset)
                continue
            }
            var batch = StoredBatch(bytes: Array(bytes[position..<(position + header.totalBytes)]), records: BatchHeader.size..<header.totalBytes, header: header)
            if header.compressionCodec != 0 {
                guard header.compressionCodec == Int(Compression.zstdCodecID) else {
                    throw KafkaClientError(
                        .invalidConfiguration,
                        "\"\(cursor.topic.name)\"[\(cursor.partition)] holds batches compressed with codec \(header.compressionCodec) at offset \(header.baseOffset); the store reads none and zstd (4). Have the producers use zstd or no compression.")
                }
                batch = try batch.decompressed(with: decompressor, position: "a fetch of \(cursor.topic.name)[\(cursor.partition)]")
            }
            try await writer.add(batch)
            writer.skip(to: header.nextOffset)
        }
        try await writer.flush()
    }

    /// Commits the offsets the store made durable since the last commit, per topic.
    private func commit() async throws {
        var byTopic: [String: [Int32: Int64]] = [:]
        for cursor in cursors where cursor.committed != cursor.next {
            byTopic[cursor.topic.name, default: [:]][Int32(cursor.partition)] = cursor.next
        }
        for (topic, offsets) in byTopic {
            try await client.commit(group: configuration.groupName, topic: topic, offsets: offsets)
            for cursor in cursors where cursor.topic.name == topic {
                if let offset = offsets[Int32(cursor.partition)] { cursor.committed = offset }
            }
        }
    }
}

/// A record of a fetched batch, copied out of the fetch's buffer.
private struct FetchedRecord {
    let offset: Int64
    let key: [UInt8]?
    let value: [UInt8]?
    let headers: [RecordHeader]
    let timestamp: Int64
}

/// Collects one partition's fetched records into store batches and appends them, keeping the
/// store offset of every record at the place its anchor maps it to: a record that does not
/// follow its predecessor on the cluster (offsets skipped by compaction or transaction
/// markers) moves the anchor first, durably.
private struct StoreWriter {
    let mirror: KafkaMirror
    let cursor: FetchCursor
    let state: SharedMirrorState
    let maxBatchBytes: Int
    private var batch = RecordBatch()
    private var payloadBytes: Int64 = 0
    /// The cluster offset the next record must have to follow the anchor's mapping.
    private var mappedNext: Int64
    private var anchor: MirrorState.Anchor
    private var storeEnd: Int64

    init(mirror: KafkaMirror, cursor: FetchCursor, state: SharedMirrorState, maxBatchBytes: Int) {
        self.mirror = mirror
        self.cursor = cursor
        self.state = state
        self.maxBatchBytes = maxBatchBytes
        storeEnd = (try? cursor.topic.logEndOffset(partition: cursor.partition)) ?? 0
        anchor = state.anchor(cursor.key) ?? MirrorState.Anchor(sourceOffset: cursor.next, targetOffset: storeEnd, sequenceOrigin: nil)
        mappedNext = anchor.resumeOffset(targetEnd: storeEnd)
    }

    mutating func add(_ stored: StoredBatch) async throws {
        var records: [FetchedRecord] = []
        try stored.forEachRecord(from: cursor.next) { (record) throws(StreamStoreError) in
            let headers: [RecordHeader] = record.headerCount > 0 ? record.headers : []
            let key: [UInt8]? = record.key.map { Array($0) }
            let value: [UInt8]? = record.value.map { Array($0) }
            records.append(FetchedRecord(offset: record.offset, key: key, value: value, headers: headers, timestamp: record.timestamp))
        }
        for record in records {
            if record.offset != mappedNext {
                try await flush()
                anchor = MirrorState.Anchor(sourceOffset: record.offset, targetOffset: storeEnd, sequenceOrigin: nil)
                try state.move(cursor.key, to: anchor)
                mappedNext = record.offset
            }
            let size = RecordSize.payloadBytes(key: record.key?.count, value: record.value?.count, headers: record.headers)
            if !batch.isEmpty, batch.byteCount + size + 32 > maxBatchBytes { try await flush() }
            try batch.append(key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp)
            payloadBytes += Int64(size)
            mappedNext = record.offset + 1
            cursor.next = record.offset + 1
        }
    }

    /// Batches that hold no records to copy (transaction markers, aborted records) only move
    /// the cursor; the anchor moves when the next record comes.
    func skip(to offset: Int64) {
        cursor.next = max(cursor.next, offset)
    }

    /// Appends what was collected, with the store's durability, at the offset the mapping says.
    mutating func flush() async throws {
        guard !batch.isEmpty else { return }
        let count = Int64(batch.count)
        let receipt: AppendReceipt
        do {
            receipt = try await cursor.topic.append(batch, partition: cursor.partition, expectedNextOffset: storeEnd)
        } catch {
            guard error.code == .offsetConflict else { throw error }
            throw KafkaClientError(
                .targetMismatch, "\"\(cursor.topic.name)\"[\(cursor.partition)] in the store grew while the mirror wrote it: something else appends to it. \(error.message)")
        }
        storeEnd = receipt.lastOffset + 1
        mirror.acknowledged(records: count, bytes: payloadBytes)
        batch.removeAll()
        payloadBytes = 0
    }
}
