import NIOCore

/// ListOffsets (key 2), v1-v5: the earliest, latest, or first offset at a time.
public struct ListOffsetsRequest: KafkaMessage {
    public static let apiKey = ApiKey.listOffsets
    /// Kafka's special timestamps.
    public static let latestTimestamp: Int64 = -1
    public static let earliestTimestamp: Int64 = -2

    public struct Partition: KafkaStruct {
        public var index: Int32 = 0
        public var currentLeaderEpoch: Int32 = -1
        public var timestamp: Int64 = -1
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            if version >= 4 { try coder.int32(&currentLeaderEpoch) }
            try coder.int64(&timestamp)
        }
    }

    public typealias Topic = TopicEntry<Partition>

    public var replicaId: Int32 = -1
    public var isolationLevel: Int8 = 0
    public var topics: [Topic] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int32(&replicaId)
        if version >= 2 { try coder.int8(&isolationLevel) }
        try coder.array(&topics, version: version)
    }
}

public struct ListOffsetsResponse: KafkaMessage {
    public static let apiKey = ApiKey.listOffsets

    public struct Partition: KafkaStruct {
        public var index: Int32 = 0
        public var errorCode: Int16 = 0
        public var timestamp: Int64 = -1
        public var offset: Int64 = -1
        public var leaderEpoch: Int32 = -1
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int16(&errorCode)
            try coder.int64(&timestamp)
            try coder.int64(&offset)
            if version >= 4 { try coder.int32(&leaderEpoch) }
        }
    }

    public typealias Topic = TopicEntry<Partition>

    public var throttleTimeMilliseconds: Int32 = 0
    public var topics: [Topic] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 2 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}
