import StreamStore
import StreamStoreFormat

/// DescribeConfigs and DescribeCluster: what admin clients (kafka-python's `describe_configs`,
/// confluent-kafka's AdminClient, `kafka-configs.sh`) ask a broker about itself and its topics.
/// Every config is read-only here: topic settings change with the store's own tools, not
/// through the Kafka protocol (AlterConfigs is not served).
extension KafkaBroker {
    /// Kafka's resource types.
    enum ConfigResource: Int8 {
        case topic = 2
        case broker = 4
    }

    /// Kafka's config sources and types, as DescribeConfigs numbers them.
    enum ConfigSource: Int8 {
        case topic = 1
        case staticBroker = 4
        case defaultConfig = 5
    }

    enum ConfigType: Int8 {
        case boolean = 1
        case string = 2
        case int = 3
        case long = 5
        case list = 7
    }

    struct ConfigEntry {
        let name: String
        let value: String
        let type: ConfigType
        var source: ConfigSource
    }

    func describeConfigs(_ request: DescribeConfigsRequest) -> DescribeConfigsResponse {
        var response = DescribeConfigsResponse()
        response.results = request.resources.map { resource in
            var result = DescribeConfigsResponse.Result()
            result.resourceType = resource.resourceType
            result.resourceName = resource.resourceName
            switch configEntries(resource) {
            case .failure(let failure):
                result.errorCode = failure.code.rawValue
                result.errorMessage = failure.message
            case .success(let entries):
                let wanted = resource.configurationKeys.map(Set.init)
                result.configs = entries.filter { wanted?.contains($0.name) ?? true }.map { entry in
                    var config = DescribeConfigsResponse.Config()
                    config.name = entry.name
                    config.value = entry.value
                    config.readOnly = true
                    config.isDefault = entry.source == .defaultConfig
                    config.configSource = entry.source.rawValue
                    config.configType = entry.type.rawValue
                    if request.includeSynonyms {
                        var synonym = DescribeConfigsResponse.Synonym()
                        synonym.name = entry.name
                        synonym.value = entry.value
                        synonym.source = entry.source.rawValue
                        config.synonyms = [synonym]
                    }
                    return config
                }
            }
            return result
        }
        return response
    }

    struct ConfigFailure: Error {
        let code: KafkaErrorCode
        let message: String
    }

    private func configEntries(_ resource: DescribeConfigsRequest.Resource) -> Result<[ConfigEntry], ConfigFailure> {
        switch ConfigResource(rawValue: resource.resourceType) {
        case .topic:
            switch topic(resource.resourceName) {
            case .failure(let code): return .failure(ConfigFailure(code: code, message: "Unknown topic \(resource.resourceName)."))
            case .success(let topic): return .success(Self.topicEntries(topic.config))
            }
        case .broker:
            guard resource.resourceName.isEmpty || resource.resourceName == String(configuration.nodeId) else {
                return .failure(ConfigFailure(code: .invalidRequest, message: "This broker is node \(configuration.nodeId), not \(resource.resourceName)."))
            }
            return .success(brokerEntries())
        case nil:
            return .failure(ConfigFailure(code: .invalidRequest, message: "Only topics (2) and the broker (4) have configs here, not resource type \(resource.resourceType)."))
        }
    }

    /// A topic's settings under Kafka's names; those equal to a new topic's defaults say so.
    static func topicEntries(_ config: TopicConfig) -> [ConfigEntry] {
        let defaults = entries(of: TopicConfig())
        return entries(of: config).map { entry in
            var marked = entry
            marked.source = defaults.contains { $0.name == entry.name && $0.value == entry.value } ? .defaultConfig : .topic
            return marked
        }
    }

    private static func entries(of config: TopicConfig) -> [ConfigEntry] {
        let compression: String
        switch config.compression {
        case .none: compression = "producer"
        case .zstd: compression = "zstd"
        }
        return [
            ConfigEntry(name: "cleanup.policy", value: "delete", type: .list, source: .topic),
            ConfigEntry(name: "compression.type", value: compression, type: .string, source: .topic),
            ConfigEntry(name: "retention.ms", value: String(config.retentionMilliseconds ?? -1), type: .long, source: .topic),
            ConfigEntry(name: "retention.bytes", value: String(config.retentionBytes ?? -1), type: .long, source: .topic),
            ConfigEntry(name: "segment.bytes", value: String(config.segmentBytes), type: .int, source: .topic),
            ConfigEntry(name: "segment.ms", value: String(config.segmentMilliseconds), type: .long, source: .topic),
            ConfigEntry(name: "segment.index.bytes", value: String(config.maxIndexBytes), type: .int, source: .topic),
            ConfigEntry(name: "index.interval.bytes", value: String(config.indexIntervalBytes), type: .int, source: .topic),
            ConfigEntry(name: "max.message.bytes", value: String(Limits.maxBatchBytes), type: .int, source: .topic),
            ConfigEntry(name: "message.timestamp.type", value: "CreateTime", type: .string, source: .topic),
            ConfigEntry(name: "message.timestamp.after.max.ms", value: String(config.maxTimestampSkewMilliseconds), type: .long, source: .topic),
            ConfigEntry(name: "min.insync.replicas", value: "1", type: .int, source: .topic),
        ]
    }

    private func brokerEntries() -> [ConfigEntry] {
        let defaults = configuration.defaultTopicConfig
        let mechanisms = configuration.offeredSASLMechanisms.map(\.rawValue).joined(separator: ",")
        return [
            ConfigEntry(name: "broker.id", value: String(configuration.nodeId), type: .int, source: .staticBroker),
            ConfigEntry(name: "auto.create.topics.enable", value: String(configuration.autoCreateTopics), type: .boolean, source: .staticBroker),
            ConfigEntry(name: "num.partitions", value: String(defaults.partitionCount), type: .int, source: .staticBroker),
            ConfigEntry(name: "default.replication.factor", value: "1", type: .int, source: .staticBroker),
            ConfigEntry(name: "log.retention.ms", value: String(defaults.retentionMilliseconds ?? -1), type: .long, source: .staticBroker),
            ConfigEntry(name: "log.retention.bytes", value: String(defaults.retentionBytes ?? -1), type: .long, source: .staticBroker),
            ConfigEntry(name: "log.segment.bytes", value: String(defaults.segmentBytes), type: .int, source: .staticBroker),
            ConfigEntry(name: "socket.request.max.bytes", value: String(configuration.maxRequestBytes), type: .int, source: .staticBroker),
            ConfigEntry(name: "max.connections", value: String(configuration.maxConnections), type: .int, source: .staticBroker),
            ConfigEntry(name: "connections.max.idle.ms", value: String(configuration.idleTimeoutMilliseconds), type: .long, source: .staticBroker),
            ConfigEntry(
                name: "group.initial.rebalance.delay.ms", value: String(configuration.initialRebalanceDelayMilliseconds), type: .int, source: .staticBroker),
            ConfigEntry(
                name: "group.min.session.timeout.ms", value: String(configuration.sessionTimeoutRangeMilliseconds.lowerBound), type: .int,
                source: .staticBroker),
            ConfigEntry(
                name: "group.max.session.timeout.ms", value: String(configuration.sessionTimeoutRangeMilliseconds.upperBound), type: .int,
                source: .staticBroker),
            ConfigEntry(name: "sasl.enabled.mechanisms", value: mechanisms, type: .list, source: .staticBroker),
        ]
    }

    func describeCluster(_ request: DescribeClusterRequest) -> DescribeClusterResponse {
        let (host, port) = advertised.withLock { $0 }
        var response = DescribeClusterResponse()
        response.endpointType = request.endpointType
        guard request.endpointType == 1 else {
            response.errorCode = KafkaErrorCode.invalidRequest.rawValue
            response.errorMessage = "This single-node broker has no separate controllers; ask for brokers (endpoint type 1)."
            return response
        }
        response.clusterId = configuration.clusterId
        response.controllerId = configuration.nodeId
        var broker = DescribeClusterResponse.Broker()
        broker.brokerId = configuration.nodeId
        broker.host = host
        broker.port = port
        response.brokers = [broker]
        return response
    }
}
