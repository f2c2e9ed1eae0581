import NIOCore

/// OffsetCommit (key 8), v2-v7.
package struct OffsetCommitRequest: KafkaMessage {
    package static let apiKey = ApiKey.offsetCommit

    package struct Partition: KafkaStruct {
        package var index: Int32 = 0
        package var committedOffset: Int64 = 0
        package var committedLeaderEpoch: Int32 = -1
        package var committedMetadata: String? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int64(&committedOffset)
            if version >= 6 { try coder.int32(&committedLeaderEpoch) }
            try coder.nullableString(&committedMetadata)
        }
    }

    package typealias Topic = TopicEntry<Partition>

    package var groupId = ""
    package var generationId: Int32 = -1
    package var memberId = ""
    package var groupInstanceId: String? = nil
    package var retentionTimeMilliseconds: Int64 = -1
    package var topics: [Topic] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.int32(&generationId)
        try coder.string(&memberId)
        if version >= 7 { try coder.nullableString(&groupInstanceId) }
        if (2...4).contains(version) { try coder.int64(&retentionTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}

package struct OffsetCommitResponse: KafkaMessage {
    package static let apiKey = ApiKey.offsetCommit

    package struct Partition: KafkaStruct {
        package var index: Int32 = 0
        package var errorCode: Int16 = 0
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int16(&errorCode)
        }
    }

    package typealias Topic = TopicEntry<Partition>

    package var throttleTimeMilliseconds: Int32 = 0
    package var topics: [Topic] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 3 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}

/// OffsetFetch (key 9), v1-v5.
package struct OffsetFetchRequest: KafkaMessage {
    package static let apiKey = ApiKey.offsetFetch

    package struct Topic: KafkaStruct {
        package var name = ""
        package var partitionIndexes: [Int32] = []
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int32Array(&partitionIndexes)
        }
    }

    package var groupId = ""
    /// Nil (v2+): every topic the group committed.
    package var topics: [Topic]? = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.nullableArray(&topics, version: version)
    }
}

package struct OffsetFetchResponse: KafkaMessage {
    package static let apiKey = ApiKey.offsetFetch

    package struct Partition: KafkaStruct {
        package var index: Int32 = 0
        package var committedOffset: Int64 = -1
        package var committedLeaderEpoch: Int32 = -1
        package var metadata: String? = ""
        package var errorCode: Int16 = 0
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int64(&committedOffset)
            if version >= 5 { try coder.int32(&committedLeaderEpoch) }
            try coder.nullableString(&metadata)
            try coder.int16(&errorCode)
        }
    }

    package typealias Topic = TopicEntry<Partition>

    package var throttleTimeMilliseconds: Int32 = 0
    package var topics: [Topic] = []
    package var errorCode: Int16 = 0

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 3 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
        if version >= 2 { try coder.int16(&errorCode) }
    }
}

/// ListGroups (key 16), v0-v2.
package struct ListGroupsRequest: KafkaMessage {
    package static let apiKey = ApiKey.listGroups
    package init() {}
    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {}
}

package struct ListGroupsResponse: KafkaMessage {
    package static let apiKey = ApiKey.listGroups

    package struct Group: KafkaStruct {
        package var groupId = ""
        package var protocolType = ""
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&groupId)
            try coder.string(&protocolType)
        }
    }

    package var throttleTimeMilliseconds: Int32 = 0
    package var errorCode: Int16 = 0
    package var groups: [Group] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
        try coder.array(&groups, version: version)
    }
}

/// DescribeGroups (key 15), v0-v4.
package struct DescribeGroupsRequest: KafkaMessage {
    package static let apiKey = ApiKey.describeGroups
    package var groups: [String] = []
    package var includeAuthorizedOperations = false

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.stringArray(&groups)
        if version >= 3 { try coder.bool(&includeAuthorizedOperations) }
    }
}

package struct DescribeGroupsResponse: KafkaMessage {
    package static let apiKey = ApiKey.describeGroups

    package struct Member: KafkaStruct {
        package var memberId = ""
        package var groupInstanceId: String? = nil
        package var clientId = ""
        package var clientHost = ""
        package var memberMetadata = ByteBuffer()
        package var memberAssignment = ByteBuffer()
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            if version >= 4 { try coder.nullableString(&groupInstanceId) }
            try coder.string(&clientId)
            try coder.string(&clientHost)
            try coder.bytes(&memberMetadata)
            try coder.bytes(&memberAssignment)
        }
    }

    package struct Group: KafkaStruct {
        package var errorCode: Int16 = 0
        package var groupId = ""
        package var groupState = ""
        package var protocolType = ""
        package var protocolData = ""
        package var members: [Member] = []
        package var authorizedOperations: Int32 = Int32.min
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&errorCode)
            try coder.string(&groupId)
            try coder.string(&groupState)
            try coder.string(&protocolType)
            try coder.string(&protocolData)
            try coder.array(&members, version: version)
            if version >= 3 { try coder.int32(&authorizedOperations) }
        }
    }

    package var throttleTimeMilliseconds: Int32 = 0
    package var groups: [Group] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&groups, version: version)
    }
}
