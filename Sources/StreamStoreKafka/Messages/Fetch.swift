import NIOCore

/// Fetch (key 1), v4-v11: stored batches from offsets on, with long polling.
public struct FetchRequest: KafkaMessage {
    public static let apiKey = ApiKey.fetch

    public struct Partition: KafkaStruct {
        public var index: Int32 = 0
        public var currentLeaderEpoch: Int32 = -1
        public var fetchOffset: Int64 = 0
        public var logStartOffset: Int64 = -1
        public var maxBytes: Int32 = 1 << 20
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            if version >= 9 { try coder.int32(&currentLeaderEpoch) }
            try coder.int64(&fetchOffset)
            if version >= 5 { try coder.int64(&logStartOffset) }
            try coder.int32(&maxBytes)
        }
    }

    public typealias Topic = TopicEntry<Partition>

    public struct ForgottenTopic: KafkaStruct {
        public var name = ""
        public var partitions: [Int32] = []
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int32Array(&partitions)
        }
    }

    public var replicaId: Int32 = -1
    public var maxWaitMilliseconds: Int32 = 500
    public var minBytes: Int32 = 1
    public var maxBytes: Int32 = Int32.max
    public var isolationLevel: Int8 = 0
    public var sessionId: Int32 = 0
    public var sessionEpoch: Int32 = -1
    public var topics: [Topic] = []
    public var forgottenTopics: [ForgottenTopic] = []
    public var rackId = ""

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int32(&replicaId)
        try coder.int32(&maxWaitMilliseconds)
        try coder.int32(&minBytes)
        if version >= 3 { try coder.int32(&maxBytes) }
        if version >= 4 { try coder.int8(&isolationLevel) }
        if version >= 7 {
            try coder.int32(&sessionId)
            try coder.int32(&sessionEpoch)
        }
        try coder.array(&topics, version: version)
        if version >= 7 { try coder.array(&forgottenTopics, version: version) }
        if version >= 11 { try coder.string(&rackId) }
    }
}

public struct FetchResponse: KafkaMessage {
    public static let apiKey = ApiKey.fetch

    public struct AbortedTransaction: KafkaStruct {
        public var producerId: Int64 = 0
        public var firstOffset: Int64 = 0
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int64(&producerId)
            try coder.int64(&firstOffset)
        }
    }

    public struct Partition: KafkaStruct {
        public var index: Int32 = 0
        public var errorCode: Int16 = 0
        public var highWatermark: Int64 = -1
        public var lastStableOffset: Int64 = -1
        public var logStartOffset: Int64 = -1
        public var abortedTransactions: [AbortedTransaction]? = nil
        public var preferredReadReplica: Int32 = -1
        /// Whole stored batches, as they lie in the log.
        public var records: ByteBuffer? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int16(&errorCode)
            try coder.int64(&highWatermark)
            if version >= 4 { try coder.int64(&lastStableOffset) }
            if version >= 5 { try coder.int64(&logStartOffset) }
            if version >= 4 { try coder.nullableArray(&abortedTransactions, version: version) }
            if version >= 11 { try coder.int32(&preferredReadReplica) }
            try coder.nullableBytes(&records)
        }
    }

    public typealias Topic = TopicEntry<Partition>

    public var throttleTimeMilliseconds: Int32 = 0
    public var errorCode: Int16 = 0
    public var sessionId: Int32 = 0
    public var topics: [Topic] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        if version >= 7 {
            try coder.int16(&errorCode)
            try coder.int32(&sessionId)
        }
        try coder.array(&topics, version: version)
    }
}
