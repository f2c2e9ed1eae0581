import NIOCore
import StreamStoreFormat

/// The cluster requests a mirror makes, each answered per partition or topic with its error
/// turned into a ``KafkaClientError``.
extension KafkaClient {
    /// Partition count and leader of each partition of `topic` in `metadata`; nil when the
    /// cluster does not know the topic.
    static func layout(of topic: String, in metadata: MetadataResponse) throws(KafkaClientError) -> [Int32: Int32]? {
        guard let entry = metadata.topics.first(where: { $0.name == topic }) else { return nil }
        if entry.errorCode == 3 { return nil }
        guard entry.errorCode == 0 else { throw KafkaClientError.broker(entry.errorCode, "Metadata of topic \"\(topic)\"") }
        var leaders: [Int32: Int32] = [:]
        for partition in entry.partitions {
            // A partition without a leader yet (an election, a topic just created) is retried.
            guard partition.errorCode == 0 || partition.errorCode == 9, partition.leaderId >= 0 else {
                throw KafkaClientError.broker(partition.errorCode == 0 ? 5 : partition.errorCode, "Metadata of \"\(topic)\"[\(partition.partitionIndex)]")
            }
            leaders[partition.partitionIndex] = partition.leaderId
        }
        return leaders
    }

    /// Creates `topic` with `partitions` partitions and the cluster's default replication; a
    /// topic that exists already (created meanwhile) is no error.
    func createTopic(_ topic: String, partitions: Int) async throws(KafkaClientError) {
        var request = CreateTopicsRequest()
        var entry = CreateTopicsRequest.Topic()
        entry.name = topic
        entry.numPartitions = Int32(partitions)
        entry.replicationFactor = -1
        request.topics = [entry]
        let connection = try await controllerConnection()
        // Before v4 the replication factor must be given: 1 suits a single broker, and a
        // cluster that refuses it says so.
        if (try? connection.version(.createTopics)).map({ $0 < 4 }) ?? false { request.topics[0].replicationFactor = 1 }
        let response = try await connection.send(request, expecting: CreateTopicsResponse.self)
        for result in response.topics where result.errorCode != 0 && result.errorCode != 36 {
            let detail = result.errorMessage.map { " (\($0))" } ?? ""
            throw KafkaClientError(
                .broker, "Cannot create topic \"\(topic)\" with \(partitions) partitions on the cluster: \(KafkaClientError.name(of: result.errorCode))\(detail).",
                kafkaErrorCode: result.errorCode == 41 ? 16 : result.errorCode)
        }
    }

    /// A new idempotent producer id and epoch.
    func initProducerId() async throws(KafkaClientError) -> (id: Int64, epoch: Int16) {
        let response = try await anyConnection().send(InitProducerIdRequest(), expecting: InitProducerIdResponse.self)
        guard response.errorCode == 0 else { throw KafkaClientError.broker(response.errorCode, "InitProducerId") }
        return (response.producerId, response.producerEpoch)
    }

    /// The offsets at `timestamp` (-1: log end, -2: log start) of `partitions` of `topic`,
    /// asked of each partition's leader.
    func offsets(topic: String, partitions leaders: [Int32: Int32], timestamp: Int64) async throws(KafkaClientError) -> [Int32: Int64] {
        var byLeader: [Int32: [Int32]] = [:]
        for (partition, leader) in leaders { byLeader[leader, default: []].append(partition) }
        var result: [Int32: Int64] = [:]
        for (leader, partitions) in byLeader {
            var request = ListOffsetsRequest()
            var entry = ListOffsetsRequest.Topic()
            entry.name = topic
            entry.partitions = partitions.sorted().map { index in
                var partition = ListOffsetsRequest.Partition()
                partition.index = index
                partition.timestamp = timestamp
                return partition
            }
            request.topics = [entry]
            let response = try await connection(node: leader).send(request, expecting: ListOffsetsResponse.self)
            for topicAnswer in response.topics {
                for partition in topicAnswer.partitions {
                    guard partition.errorCode == 0 else {
                        throw KafkaClientError.broker(partition.errorCode, "ListOffsets of \"\(topic)\"[\(partition.index)]")
                    }
                    result[partition.index] = partition.offset
                }
            }
        }
        for partition in leaders.keys where result[partition] == nil {
            throw KafkaClientError(.protocolViolation, "ListOffsets answered nothing for \"\(topic)\"[\(partition)].")
        }
        return result
    }

    /// The log ends of `partitions` of `topic` as the records show them. ListOffsets `reported`
    /// an end and `starts` a log start for each; when the partition holds records, its last one
    /// (at the reported end - 1) is fetched, and the batch that holds it says where the log
    /// really ends, fetched again from there until no batch reaches further. A broker may report
    /// less than it holds (Tansu 0.6 answers the base offset of the last batch + 1, not its last
    /// offset + 1, and fetches nothing from there), and a mirror resuming from such an end would
    /// send again records the cluster has. A broker that reports its end right is asked once per
    /// partition, and answers at once with the last batch.
    func verifiedLogEnds(topic: String, partitions leaders: [Int32: Int32], reported: [Int32: Int64], starts: [Int32: Int64]) async throws(KafkaClientError) -> [Int32: Int64] {
        var ends = reported
        for (partition, leader) in leaders {
            guard var end = reported[partition], let start = starts[partition], end > start else { continue }
            // Each round moves the end past at least one batch; a broker answering endlessly
            // with more is no log.
            for round in 0... {
                var request = FetchRequest()
                // The record asked for is there, so a broker answers at once; Tansu answers
                // nothing at all to a fetch that asks for no minimum size.
                request.maxWaitMilliseconds = 100
                request.minBytes = 1
                request.maxBytes = 1 << 20
                var entry = FetchRequest.Topic()
                entry.name = topic
                var fetched = FetchRequest.Partition()
                fetched.index = partition
                fetched.fetchOffset = end - 1
                fetched.maxBytes = 1 << 20
                entry.partitions = [fetched]
                request.topics = [entry]
                let response = try await connection(node: leader).send(request, expecting: FetchResponse.self)
                if response.errorCode != 0 { throw KafkaClientError.broker(response.errorCode, "Fetch") }
                // Some brokers (Tansu) leave out a partition that has nothing to give.
                guard let answer = response.topics.first(where: { $0.name == topic })?.partitions.first(where: { $0.index == partition }) else { break }
                guard answer.errorCode == 0 else {
                    throw KafkaClientError.broker(answer.errorCode, "Fetch of the last record of \"\(topic)\"[\(partition)] (offset \(end - 1))")
                }
                guard let next = answer.records.flatMap(Self.nextOffset(afterBatchesIn:)), next > end else { break }
                guard round < 100_000 else {
                    throw KafkaClientError(.protocolViolation, "\"\(topic)\"[\(partition)] kept returning records past its log end: stopped at offset \(end).")
                }
                end = next
            }
            ends[partition] = end
        }
        return ends
    }

    /// The offset after the last record of the batches in a fetched record set (the header of
    /// each is enough: a batch cut off at the end of the answer still tells where it ends);
    /// nil when it holds none.
    static func nextOffset(afterBatchesIn records: ByteBuffer) -> Int64? {
        records.withUnsafeReadableBytes { bytes -> Int64? in
            var position = 0
            var next: Int64?
            while bytes.count - position >= BatchHeader.size {
                let header = BatchHeader(loadingFrom: UnsafeRawBufferPointer(rebasing: bytes[position...]))
                guard header.magic == BatchHeader.magicValue, header.baseOffset >= 0, header.lastOffsetDelta >= 0,
                    header.baseOffset < Int64.max - Int64(header.lastOffsetDelta), header.totalBytes >= BatchHeader.size
                else { break }
                next = max(next ?? header.nextOffset, header.nextOffset)
                position += header.totalBytes
            }
            return next
        }
    }

    /// The offsets `group` committed for `partitions` of `topic` (-1: none).
    func committedOffsets(group: String, topic: String, partitions: [Int32]) async throws(KafkaClientError) -> [Int32: Int64] {
        var request = OffsetFetchRequest()
        request.groupId = group
        var entry = OffsetFetchRequest.Topic()
        entry.name = topic
        entry.partitionIndexes = partitions.sorted()
        request.topics = [entry]
        let response = try await coordinator(group: group).send(request, expecting: OffsetFetchResponse.self)
        guard response.errorCode == 0 else { throw KafkaClientError.broker(response.errorCode, "OffsetFetch of group \"\(group)\"") }
        var result: [Int32: Int64] = [:]
        for topicAnswer in response.topics where topicAnswer.name == topic {
            for partition in topicAnswer.partitions {
                guard partition.errorCode == 0 else { throw KafkaClientError.broker(partition.errorCode, "OffsetFetch of group \"\(group)\"") }
                result[partition.index] = partition.committedOffset
            }
        }
        return result
    }

    /// Commits `offsets` of `topic` for `group`, as a client outside any generation does
    /// (generation -1, no member id): the group only records progress, nobody joins it.
    func commit(group: String, topic: String, offsets: [Int32: Int64]) async throws(KafkaClientError) {
        var request = OffsetCommitRequest()
        request.groupId = group
        var entry = OffsetCommitRequest.Topic()
        entry.name = topic
        entry.partitions = offsets.sorted(by: { $0.key < $1.key }).map { index, offset in
            var partition = OffsetCommitRequest.Partition()
            partition.index = index
            partition.committedOffset = offset
            return partition
        }
        request.topics = [entry]
        let response = try await coordinator(group: group).send(request, expecting: OffsetCommitResponse.self)
        for topicAnswer in response.topics {
            for partition in topicAnswer.partitions where partition.errorCode != 0 {
                throw KafkaClientError.broker(partition.errorCode, "OffsetCommit of group \"\(group)\" for \"\(topic)\"[\(partition.index)]")
            }
        }
    }
}
