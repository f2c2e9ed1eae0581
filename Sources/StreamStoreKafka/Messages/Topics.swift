import NIOCore

/// CreateTopics (key 19), v0-v4.
package struct CreateTopicsRequest: KafkaMessage {
    package static let apiKey = ApiKey.createTopics

    package struct Assignment: KafkaStruct {
        package var partitionIndex: Int32 = 0
        package var brokerIds: [Int32] = []
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&partitionIndex)
            try coder.int32Array(&brokerIds)
        }
    }

    package struct Config: KafkaStruct {
        package var name = ""
        package var value: String? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.nullableString(&value)
        }
    }

    package struct Topic: KafkaStruct {
        package var name = ""
        /// -1 (v4+): the broker's default.
        package var numPartitions: Int32 = -1
        package var replicationFactor: Int16 = -1
        package var assignments: [Assignment] = []
        package var configs: [Config] = []
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int32(&numPartitions)
            try coder.int16(&replicationFactor)
            try coder.array(&assignments, version: version)
            try coder.array(&configs, version: version)
        }
    }

    package var topics: [Topic] = []
    package var timeoutMilliseconds: Int32 = 30_000
    package var validateOnly = false

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.array(&topics, version: version)
        try coder.int32(&timeoutMilliseconds)
        if version >= 1 { try coder.bool(&validateOnly) }
    }
}

package struct CreateTopicsResponse: KafkaMessage {
    package static let apiKey = ApiKey.createTopics

    package struct Topic: KafkaStruct {
        package var name = ""
        package var errorCode: Int16 = 0
        package var errorMessage: String? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int16(&errorCode)
            if version >= 1 { try coder.nullableString(&errorMessage) }
        }
    }

    package var throttleTimeMilliseconds: Int32 = 0
    package var topics: [Topic] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 2 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}

/// DeleteTopics (key 20), v0-v3. The store keeps topics until they are removed with their
/// folder, so every topic is answered with TOPIC_DELETION_DISABLED.
package struct DeleteTopicsRequest: KafkaMessage {
    package static let apiKey = ApiKey.deleteTopics
    package var topicNames: [String] = []
    package var timeoutMilliseconds: Int32 = 30_000

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.stringArray(&topicNames)
        try coder.int32(&timeoutMilliseconds)
    }
}

package struct DeleteTopicsResponse: KafkaMessage {
    package static let apiKey = ApiKey.deleteTopics

    package struct Topic: KafkaStruct {
        package var name = ""
        package var errorCode: Int16 = 0
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int16(&errorCode)
        }
    }

    package var throttleTimeMilliseconds: Int32 = 0
    package var topics: [Topic] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}

/// InitProducerId (key 22), v0-v1: a producer id and epoch for an idempotent producer.
package struct InitProducerIdRequest: KafkaMessage {
    package static let apiKey = ApiKey.initProducerId
    package var transactionalId: String? = nil
    package var transactionTimeoutMilliseconds: Int32 = 60_000
    /// v3+ (the client side only): the producer to bump, or -1 for a new one.
    package var producerId: Int64 = -1
    package var producerEpoch: Int16 = -1

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.nullableString(&transactionalId)
        try coder.int32(&transactionTimeoutMilliseconds)
        if version >= 3 {
            try coder.int64(&producerId)
            try coder.int16(&producerEpoch)
        }
    }
}

package struct InitProducerIdResponse: KafkaMessage {
    package static let apiKey = ApiKey.initProducerId
    package var throttleTimeMilliseconds: Int32 = 0
    package var errorCode: Int16 = 0
    package var producerId: Int64 = -1
    package var producerEpoch: Int16 = -1

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int32(&throttleTimeMilliseconds)
        try coder.int16(&errorCode)
        try coder.int64(&producerId)
        try coder.int16(&producerEpoch)
    }
}
