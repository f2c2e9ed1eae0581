import NIOCore

/// ListOffsets (key 2), v1-v5: the earliest, latest, or first offset at a time.
package struct ListOffsetsRequest: KafkaMessage {
    package static let apiKey = ApiKey.listOffsets
    /// Kafka's special timestamps.
    package static let latestTimestamp: Int64 = -1
    package static let earliestTimestamp: Int64 = -2

    package struct Partition: KafkaStruct {
        package var index: Int32 = 0
        package var currentLeaderEpoch: Int32 = -1
        package var timestamp: Int64 = -1
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            if version >= 4 { try coder.int32(&currentLeaderEpoch) }
            try coder.int64(&timestamp)
        }
    }

    package typealias Topic = TopicEntry<Partition>

    package var replicaId: Int32 = -1
    package var isolationLevel: Int8 = 0
    package var topics: [Topic] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int32(&replicaId)
        if version >= 2 { try coder.int8(&isolationLevel) }
        try coder.array(&topics, version: version)
    }
}

package struct ListOffsetsResponse: KafkaMessage {
    package static let apiKey = ApiKey.listOffsets

    package struct Partition: KafkaStruct {
        package var index: Int32 = 0
        package var errorCode: Int16 = 0
        package var timestamp: Int64 = -1
        package var offset: Int64 = -1
        package var leaderEpoch: Int32 = -1
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int16(&errorCode)
            try coder.int64(&timestamp)
            try coder.int64(&offset)
            if version >= 4 { try coder.int32(&leaderEpoch) }
        }
    }

    package typealias Topic = TopicEntry<Partition>

    package var throttleTimeMilliseconds: Int32 = 0
    package var topics: [Topic] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 2 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}
