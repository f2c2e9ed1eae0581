import NIOCore

/// Fetch (key 1), v4-v11: stored batches from offsets on, with long polling.
package struct FetchRequest: KafkaMessage {
    package static let apiKey = ApiKey.fetch

    package struct Partition: KafkaStruct {
        package var index: Int32 = 0
        package var currentLeaderEpoch: Int32 = -1
        package var fetchOffset: Int64 = 0
        package var logStartOffset: Int64 = -1
        package var maxBytes: Int32 = 1 << 20
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            if version >= 9 { try coder.int32(&currentLeaderEpoch) }
            try coder.int64(&fetchOffset)
            if version >= 5 { try coder.int64(&logStartOffset) }
            try coder.int32(&maxBytes)
        }
    }

    package typealias Topic = TopicEntry<Partition>

    package struct ForgottenTopic: KafkaStruct {
        package var name = ""
        package var partitions: [Int32] = []
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int32Array(&partitions)
        }
    }

    package var replicaId: Int32 = -1
    package var maxWaitMilliseconds: Int32 = 500
    package var minBytes: Int32 = 1
    package var maxBytes: Int32 = Int32.max
    package var isolationLevel: Int8 = 0
    package var sessionId: Int32 = 0
    package var sessionEpoch: Int32 = -1
    package var topics: [Topic] = []
    package var forgottenTopics: [ForgottenTopic] = []
    package var rackId = ""

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
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

package struct FetchResponse: KafkaMessage {
    package static let apiKey = ApiKey.fetch

    package struct AbortedTransaction: KafkaStruct {
        package var producerId: Int64 = 0
        package var firstOffset: Int64 = 0
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int64(&producerId)
            try coder.int64(&firstOffset)
        }
    }

    package struct Partition: KafkaStruct {
        package var index: Int32 = 0
        package var errorCode: Int16 = 0
        package var highWatermark: Int64 = -1
        package var lastStableOffset: Int64 = -1
        package var logStartOffset: Int64 = -1
        package var abortedTransactions: [AbortedTransaction]? = nil
        package var preferredReadReplica: Int32 = -1
        /// Whole stored batches, as they lie in the log.
        package var records: ByteBuffer? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
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

    package typealias Topic = TopicEntry<Partition>

    package var throttleTimeMilliseconds: Int32 = 0
    package var errorCode: Int16 = 0
    package var sessionId: Int32 = 0
    package var topics: [Topic] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        if version >= 7 {
            try coder.int16(&errorCode)
            try coder.int32(&sessionId)
        }
        try coder.array(&topics, version: version)
    }
}
