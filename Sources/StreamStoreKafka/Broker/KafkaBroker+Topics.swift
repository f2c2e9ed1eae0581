import NIOCore
import StreamStore
import StreamStoreFormat

/// Metadata, CreateTopics and DeleteTopics: topics as Kafka clients see them, one broker
/// leading every partition.
extension KafkaBroker {
    func metadata(_ request: MetadataRequest, version: Int16) -> MetadataResponse {
        let (host, port) = advertised.withLock { $0 }
        var response = MetadataResponse()
        var broker = MetadataResponse.Broker()
        broker.nodeId = configuration.nodeId
        broker.host = host
        broker.port = port
        response.brokers = [broker]
        response.clusterId = configuration.clusterId
        response.controllerId = configuration.nodeId
        // v0 asks for every topic with an empty list; v1+ with null.
        let names: [String]
        if let topics = request.topics, !(version == 0 && topics.isEmpty) {
            names = topics.map(\.name)
        } else {
            names = store.topicNames
        }
        let mayCreate = configuration.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation) && request.topics != nil
        response.topics = names.map { name in describeTopic(name, createIfMissing: mayCreate) }
        return response
    }

    private func describeTopic(_ name: String, createIfMissing: Bool) -> MetadataResponse.Topic {
        var entry = MetadataResponse.Topic()
        entry.name = name
        var found = topic(name)
        if case .failure(.unknownTopicOrPartition) = found, createIfMissing {
            do throws(StreamStoreError) {
                found = .success(try store.createTopic(name, config: configuration.defaultTopicConfig))
                logger.info("Created topic \(name) for a client's metadata request.")
            } catch {
                found = .failure(KafkaErrorCode(error))
            }
        }
        switch found {
        case .failure(let error):
            entry.errorCode = error.rawValue
        case .success(let topic):
            entry.partitions = (0..<topic.partitionCount).map { index in
                var partition = MetadataResponse.Partition()
                partition.partitionIndex = Int32(index)
                partition.leaderId = configuration.nodeId
                partition.replicaNodes = [configuration.nodeId]
                partition.isrNodes = [configuration.nodeId]
                return partition
            }
        }
        return entry
    }

    func createTopics(_ request: CreateTopicsRequest) -> CreateTopicsResponse {
        var response = CreateTopicsResponse()
        response.topics = request.topics.map { wanted in
            var result = CreateTopicsResponse.Topic()
            result.name = wanted.name
            let outcome = createTopic(wanted, validateOnly: request.validateOnly)
            result.errorCode = outcome.code.rawValue
            result.errorMessage = outcome.message
            return result
        }
        return response
    }

    private func createTopic(_ wanted: CreateTopicsRequest.Topic, validateOnly: Bool) -> (code: KafkaErrorCode, message: String?) {
        if store.topicNames.contains(wanted.name) { return (.topicAlreadyExists, "Topic \(wanted.name) already exists.") }
        guard wanted.replicationFactor == -1 || wanted.replicationFactor == 1 else {
            return (.invalidReplicationFactor, "This broker is a single node: the replication factor must be 1 (or -1 for the default).")
        }
        var config = configuration.defaultTopicConfig
        if wanted.numPartitions > 0 {
            config.partitionCount = Int(wanted.numPartitions)
        } else if !wanted.assignments.isEmpty {
            config.partitionCount = wanted.assignments.count
        } else if wanted.numPartitions != -1 {
            return (.invalidPartitions, "The partition count must be positive (or -1 for the default).")
        }
        for entry in wanted.configs {
            if let problem = TopicConfigMapping.apply(name: entry.name, value: entry.value, to: &config) { return (.invalidConfig, problem) }
        }
        do throws(StreamStoreError) {
            try config.validate()
            if !validateOnly {
                _ = try store.createTopic(wanted.name, config: config)
                logger.info("Created topic \(wanted.name) with \(config.partitionCount) partitions.")
            }
            return (.none, nil)
        } catch {
            return (KafkaErrorCode(error), error.message)
        }
    }

    func deleteTopics(_ request: DeleteTopicsRequest) -> DeleteTopicsResponse {
        var response = DeleteTopicsResponse()
        response.topics = request.topicNames.map { name in
            var result = DeleteTopicsResponse.Topic()
            result.name = name
            let known = store.topicNames.contains(name)
            result.errorCode = (known ? KafkaErrorCode.topicDeletionDisabled : .unknownTopicOrPartition).rawValue
            return result
        }
        return response
    }
}

/// The Kafka topic configs CreateTopics maps onto ``TopicConfig``; others are ignored, as
/// docs/KAFKA.md says, except where ignoring would change what the client gets.
enum TopicConfigMapping {
    /// Applies one config, or says why it cannot be.
    static func apply(name: String, value: String?, to config: inout TopicConfig) -> String? {
        guard let value else { return nil }
        func number() -> Int64? { Int64(value) }
        switch name {
        case "retention.ms":
            guard let milliseconds = number() else { return "retention.ms must be a number, not \(value)." }
            config.retentionMilliseconds = milliseconds < 0 ? nil : milliseconds
        case "retention.bytes":
            guard let bytes = number() else { return "retention.bytes must be a number, not \(value)." }
            config.retentionBytes = bytes < 0 ? nil : bytes
        case "segment.bytes":
            guard let bytes = number() else { return "segment.bytes must be a number, not \(value)." }
            config.segmentBytes = Int(bytes)
        case "segment.ms":
            guard let milliseconds = number() else { return "segment.ms must be a number, not \(value)." }
            config.segmentMilliseconds = milliseconds
        case "cleanup.policy":
            guard value == "delete" else { return "cleanup.policy \(value) is not supported: this store does not compact topics." }
        default:
            break
        }
        return nil
    }
}
