import NIOCore

/// Metadata (key 3), v0-v8: brokers, topics and partition leaders.
package struct MetadataRequest: KafkaMessage {
    package static let apiKey = ApiKey.metadata

    package struct Topic: KafkaStruct {
        package var name = ""
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
        }
    }

    /// Nil (v1+) or empty (v0): every topic.
    package var topics: [Topic]? = nil
    package var allowAutoTopicCreation = true
    package var includeClusterAuthorizedOperations = false
    package var includeTopicAuthorizedOperations = false

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.nullableArray(&topics, version: version)
        if version >= 4 { try coder.bool(&allowAutoTopicCreation) }
        if version >= 8 {
            try coder.bool(&includeClusterAuthorizedOperations)
            try coder.bool(&includeTopicAuthorizedOperations)
        }
    }
}

package struct MetadataResponse: KafkaMessage {
    package static let apiKey = ApiKey.metadata

    package struct Broker: KafkaStruct {
        package var nodeId: Int32 = 0
        package var host = ""
        package var port: Int32 = 0
        package var rack: String? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&nodeId)
            try coder.string(&host)
            try coder.int32(&port)
            if version >= 1 { try coder.nullableString(&rack) }
        }
    }

    package struct Partition: KafkaStruct {
        package var errorCode: Int16 = 0
        package var partitionIndex: Int32 = 0
        package var leaderId: Int32 = 0
        package var leaderEpoch: Int32 = 0
        package var replicaNodes: [Int32] = []
        package var isrNodes: [Int32] = []
        package var offlineReplicas: [Int32] = []
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&errorCode)
            try coder.int32(&partitionIndex)
            try coder.int32(&leaderId)
            if version >= 7 { try coder.int32(&leaderEpoch) }
            try coder.int32Array(&replicaNodes)
            try coder.int32Array(&isrNodes)
            if version >= 5 { try coder.int32Array(&offlineReplicas) }
        }
    }

    package struct Topic: KafkaStruct {
        package var errorCode: Int16 = 0
        package var name = ""
        package var isInternal = false
        package var partitions: [Partition] = []
        package var topicAuthorizedOperations: Int32 = Int32.min
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&errorCode)
            try coder.string(&name)
            if version >= 1 { try coder.bool(&isInternal) }
            try coder.array(&partitions, version: version)
            if version >= 8 { try coder.int32(&topicAuthorizedOperations) }
        }
    }

    package var throttleTimeMilliseconds: Int32 = 0
    package var brokers: [Broker] = []
    package var clusterId: String? = nil
    package var controllerId: Int32 = -1
    package var topics: [Topic] = []
    package var clusterAuthorizedOperations: Int32 = Int32.min

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 3 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&brokers, version: version)
        if version >= 2 { try coder.nullableString(&clusterId) }
        if version >= 1 { try coder.int32(&controllerId) }
        try coder.array(&topics, version: version)
        if version >= 8 { try coder.int32(&clusterAuthorizedOperations) }
    }
}
