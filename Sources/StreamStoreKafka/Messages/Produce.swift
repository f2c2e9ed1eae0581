import NIOCore

/// Produce (key 0), v3-v8: record batches (RecordBatch v2) per partition.
package struct ProduceRequest: KafkaMessage {
    package static let apiKey = ApiKey.produce

    package struct Partition: KafkaStruct {
        package var index: Int32 = 0
        package var records: ByteBuffer? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.nullableBytes(&records)
        }
    }

    package typealias Topic = TopicEntry<Partition>

    package var transactionalId: String? = nil
    /// 0: no answer; 1: once written; -1: once durable under the topic's flush policy.
    package var acks: Int16 = -1
    package var timeoutMilliseconds: Int32 = 30_000
    package var topics: [Topic] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.nullableString(&transactionalId)
        try coder.int16(&acks)
        try coder.int32(&timeoutMilliseconds)
        try coder.array(&topics, version: version)
    }
}

package struct ProduceResponse: KafkaMessage {
    package static let apiKey = ApiKey.produce

    package struct RecordError: KafkaStruct {
        package var batchIndex: Int32 = 0
        package var message: String? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&batchIndex)
            try coder.nullableString(&message)
        }
    }

    package struct Partition: KafkaStruct {
        package var index: Int32 = 0
        package var errorCode: Int16 = 0
        package var baseOffset: Int64 = -1
        package var logAppendTimeMilliseconds: Int64 = -1
        package var logStartOffset: Int64 = -1
        package var recordErrors: [RecordError] = []
        package var errorMessage: String? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
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

    package typealias Topic = TopicEntry<Partition>

    package var topics: [Topic] = []
    package var throttleTimeMilliseconds: Int32 = 0

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.array(&topics, version: version)
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
    }
}
