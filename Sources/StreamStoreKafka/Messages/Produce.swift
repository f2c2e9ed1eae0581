import NIOCore

/// Produce (key 0), v3-v8: record batches (RecordBatch v2) per partition.
public struct ProduceRequest: KafkaMessage {
    public static let apiKey = ApiKey.produce

    public struct Partition: KafkaStruct {
        public var index: Int32 = 0
        public var records: ByteBuffer? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.nullableBytes(&records)
        }
    }

    public typealias Topic = TopicEntry<Partition>

    public var transactionalId: String? = nil
    /// 0: no answer; 1: once written; -1: once durable under the topic's flush policy.
    public var acks: Int16 = -1
    public var timeoutMilliseconds: Int32 = 30_000
    public var topics: [Topic] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.nullableString(&transactionalId)
        try coder.int16(&acks)
        try coder.int32(&timeoutMilliseconds)
        try coder.array(&topics, version: version)
    }
}

public struct ProduceResponse: KafkaMessage {
    public static let apiKey = ApiKey.produce

    public struct RecordError: KafkaStruct {
        public var batchIndex: Int32 = 0
        public var message: String? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&batchIndex)
            try coder.nullableString(&message)
        }
    }

    public struct Partition: KafkaStruct {
        public var index: Int32 = 0
        public var errorCode: Int16 = 0
        public var baseOffset: Int64 = -1
        public var logAppendTimeMilliseconds: Int64 = -1
        public var logStartOffset: Int64 = -1
        public var recordErrors: [RecordError] = []
        public var errorMessage: String? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int16(&errorCode)
            try coder.int64(&baseOffset)
            if version >= 2 { try coder.int64(&logAppendTimeMilliseconds) }
            if version >= 5 { try coder.int64(&logStartOffset) }
            if version >= 8 {
                try coder.array(&recordErrors, version: version)
                try coder.nullableString(&errorMessage)
            }
        }
    }

    public typealias Topic = TopicEntry<Partition>

    public var topics: [Topic] = []
    public var throttleTimeMilliseconds: Int32 = 0

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.array(&topics, version: version)
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
    }
}
