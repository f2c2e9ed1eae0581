import NIOCore

/// Metadata (key 3), v0-v8: brokers, topics and partition leaders.
public struct MetadataRequest: KafkaMessage {
    public static let apiKey = ApiKey.metadata

    public struct Topic: KafkaStruct {
        public var name = ""
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
        }
    }

    /// Nil (v1+) or empty (v0): every topic.
    public var topics: [Topic]? = nil
    public var allowAutoTopicCreation = true
    public var includeClusterAuthorizedOperations = false
    public var includeTopicAuthorizedOperations = false

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.nullableArray(&topics, version: version)
        if version >= 4 { try coder.bool(&allowAutoTopicCreation) }
        if version >= 8 {
            try coder.bool(&includeClusterAuthorizedOperations)
            try coder.bool(&includeTopicAuthorizedOperations)
        }
    }
}

public struct MetadataResponse: KafkaMessage {
    public static let apiKey = ApiKey.metadata

    public struct Broker: KafkaStruct {
        public var nodeId: Int32 = 0
        public var host = ""
        public var port: Int32 = 0
        public var rack: String? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&nodeId)
            try coder.string(&host)
            try coder.int32(&port)
            if version >= 1 { try coder.nullableString(&rack) }
        }
    }

    public struct Partition: KafkaStruct {
        public var errorCode: Int16 = 0
        public var partitionIndex: Int32 = 0
        public var leaderId: Int32 = 0
        public var leaderEpoch: Int32 = 0
        public var replicaNodes: [Int32] = []
        public var isrNodes: [Int32] = []
        public var offlineReplicas: [Int32] = []
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&errorCode)
            try coder.int32(&partitionIndex)
            try coder.int32(&leaderId)
            if version >= 7 { try coder.int32(&leaderEpoch) }
            try coder.int32Array(&replicaNodes)
            try coder.int32Array(&isrNodes)
            if version >= 5 { try coder.int32Array(&offlineReplicas) }
        }
    }

    public struct Topic: KafkaStruct {
        public var errorCode: Int16 = 0
        public var name = ""
        public var isInternal = false
        public var partitions: [Partition] = []
        public var topicAuthorizedOperations: Int32 = Int32.min
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&errorCode)
            try coder.string(&name)
            if version >= 1 { try coder.bool(&isInternal) }
            try coder.array(&partitions, version: version)
            if version >= 8 { try coder.int32(&topicAuthorizedOperations) }
        }
    }

    public var throttleTimeMilliseconds: Int32 = 0
    public var brokers: [Broker] = []
    public var clusterId: String? = nil
    public var controllerId: Int32 = -1
    public var topics: [Topic] = []
    public var clusterAuthorizedOperations: Int32 = Int32.min

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 3 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&brokers, version: version)
        if version >= 2 { try coder.nullableString(&clusterId) }
        if version >= 1 { try coder.int32(&controllerId) }
        try coder.array(&topics, version: version)
        if version >= 8 { try coder.int32(&clusterAuthorizedOperations) }
    }
}
