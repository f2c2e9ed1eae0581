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
