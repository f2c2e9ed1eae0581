import NIOCore

/// CreateTopics (key 19), v0-v4.
public struct CreateTopicsRequest: KafkaMessage {
    public static let apiKey = ApiKey.createTopics

    public struct Assignment: KafkaStruct {
        public var partitionIndex: Int32 = 0
        public var brokerIds: [Int32] = []
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&partitionIndex)
            try coder.int32Array(&brokerIds)
        }
    }

    public struct Config: KafkaStruct {
        public var name = ""
        public var value: String? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.nullableString(&value)
        }
    }

    public struct Topic: KafkaStruct {
        public var name = ""
        /// -1 (v4+): the broker's default.
        public var numPartitions: Int32 = -1
        public var replicationFactor: Int16 = -1
        public var assignments: [Assignment] = []
        public var configs: [Config] = []
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int32(&numPartitions)
            try coder.int16(&replicationFactor)
            try coder.array(&assignments, version: version)
            try coder.array(&configs, version: version)
        }
    }

    public var topics: [Topic] = []
    public var timeoutMilliseconds: Int32 = 30_000
    public var validateOnly = false

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.array(&topics, version: version)
        try coder.int32(&timeoutMilliseconds)
        if version >= 1 { try coder.bool(&validateOnly) }
    }
}

public struct CreateTopicsResponse: KafkaMessage {
    public static let apiKey = ApiKey.createTopics

    public struct Topic: KafkaStruct {
        public var name = ""
        public var errorCode: Int16 = 0
        public var errorMessage: String? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int16(&errorCode)
            if version >= 1 { try coder.nullableString(&errorMessage) }
        }
    }

    public var throttleTimeMilliseconds: Int32 = 0
    public var topics: [Topic] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 2 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}

/// DeleteTopics (key 20), v0-v3. The store keeps topics until they are removed with their
/// folder, so every topic is answered with TOPIC_DELETION_DISABLED.
public struct DeleteTopicsRequest: KafkaMessage {
    public static let apiKey = ApiKey.deleteTopics
    public var topicNames: [String] = []
    public var timeoutMilliseconds: Int32 = 30_000

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.stringArray(&topicNames)
        try coder.int32(&timeoutMilliseconds)
    }
}

public struct DeleteTopicsResponse: KafkaMessage {
    public static let apiKey = ApiKey.deleteTopics

    public struct Topic: KafkaStruct {
        public var name = ""
        public var errorCode: Int16 = 0
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int16(&errorCode)
        }
    }

    public var throttleTimeMilliseconds: Int32 = 0
    public var topics: [Topic] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}

/// InitProducerId (key 22), v0-v1: a producer id and epoch for an idempotent producer.
public struct InitProducerIdRequest: KafkaMessage {
    public static let apiKey = ApiKey.initProducerId
    public var transactionalId: String? = nil
    public var transactionTimeoutMilliseconds: Int32 = 60_000
    /// v3+ (the client side only): the producer to bump, or -1 for a new one.
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.nullableString(&transactionalId)
        try coder.int32(&transactionTimeoutMilliseconds)
        if version >= 3 {
            try coder.int64(&producerId)
            try coder.int16(&producerEpoch)
        }
    }
}

public struct InitProducerIdResponse: KafkaMessage {
    public static let apiKey = ApiKey.initProducerId
    public var throttleTimeMilliseconds: Int32 = 0
    public var errorCode: Int16 = 0
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int32(&throttleTimeMilliseconds)
        try coder.int16(&errorCode)
        try coder.int64(&producerId)
        try coder.int16(&producerEpoch)
    }
}
