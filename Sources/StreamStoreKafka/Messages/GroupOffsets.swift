import NIOCore

/// OffsetCommit (key 8), v2-v7.
public struct OffsetCommitRequest: KafkaMessage {
    public static let apiKey = ApiKey.offsetCommit

    public struct Partition: KafkaStruct {
        public var index: Int32 = 0
        public var committedOffset: Int64 = 0
        public var committedLeaderEpoch: Int32 = -1
        public var committedMetadata: String? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int64(&committedOffset)
            if version >= 6 { try coder.int32(&committedLeaderEpoch) }
            try coder.nullableString(&committedMetadata)
        }
    }

    public typealias Topic = TopicEntry<Partition>

    public var groupId = ""
    public var generationId: Int32 = -1
    public var memberId = ""
    public var groupInstanceId: String? = nil
    public var retentionTimeMilliseconds: Int64 = -1
    public var topics: [Topic] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.int32(&generationId)
        try coder.string(&memberId)
        if version >= 7 { try coder.nullableString(&groupInstanceId) }
        if (2...4).contains(version) { try coder.int64(&retentionTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}

public struct OffsetCommitResponse: KafkaMessage {
    public static let apiKey = ApiKey.offsetCommit

    public struct Partition: KafkaStruct {
        public var index: Int32 = 0
        public var errorCode: Int16 = 0
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int16(&errorCode)
        }
    }

    public typealias Topic = TopicEntry<Partition>

    public var throttleTimeMilliseconds: Int32 = 0
    public var topics: [Topic] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 3 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
    }
}

/// OffsetFetch (key 9), v1-v5.
public struct OffsetFetchRequest: KafkaMessage {
    public static let apiKey = ApiKey.offsetFetch

    public struct Topic: KafkaStruct {
        public var name = ""
        public var partitionIndexes: [Int32] = []
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.int32Array(&partitionIndexes)
        }
    }

    public var groupId = ""
    /// Nil (v2+): every topic the group committed.
    public var topics: [Topic]? = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.nullableArray(&topics, version: version)
    }
}

public struct OffsetFetchResponse: KafkaMessage {
    public static let apiKey = ApiKey.offsetFetch

    public struct Partition: KafkaStruct {
        public var index: Int32 = 0
        public var committedOffset: Int64 = -1
        public var committedLeaderEpoch: Int32 = -1
        public var metadata: String? = ""
        public var errorCode: Int16 = 0
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&index)
            try coder.int64(&committedOffset)
            if version >= 5 { try coder.int32(&committedLeaderEpoch) }
            try coder.nullableString(&metadata)
            try coder.int16(&errorCode)
        }
    }

    public typealias Topic = TopicEntry<Partition>

    public var throttleTimeMilliseconds: Int32 = 0
    public var topics: [Topic] = []
    public var errorCode: Int16 = 0

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 3 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&topics, version: version)
        if version >= 2 { try coder.int16(&errorCode) }
    }
}

/// ListGroups (key 16), v0-v2.
public struct ListGroupsRequest: KafkaMessage {
    public static let apiKey = ApiKey.listGroups
    public init() {}
    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {}
}

public struct ListGroupsResponse: KafkaMessage {
    public static let apiKey = ApiKey.listGroups

    public struct Group: KafkaStruct {
        public var groupId = ""
        public var protocolType = ""
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&groupId)
            try coder.string(&protocolType)
        }
    }

    public var throttleTimeMilliseconds: Int32 = 0
    public var errorCode: Int16 = 0
    public var groups: [Group] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
        try coder.array(&groups, version: version)
    }
}

/// DescribeGroups (key 15), v0-v4.
public struct DescribeGroupsRequest: KafkaMessage {
    public static let apiKey = ApiKey.describeGroups
    public var groups: [String] = []
    public var includeAuthorizedOperations = false

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.stringArray(&groups)
        if version >= 3 { try coder.bool(&includeAuthorizedOperations) }
    }
}

public struct DescribeGroupsResponse: KafkaMessage {
    public static let apiKey = ApiKey.describeGroups

    public struct Member: KafkaStruct {
        public var memberId = ""
        public var groupInstanceId: String? = nil
        public var clientId = ""
        public var clientHost = ""
        public var memberMetadata = ByteBuffer()
        public var memberAssignment = ByteBuffer()
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            if version >= 4 { try coder.nullableString(&groupInstanceId) }
            try coder.string(&clientId)
            try coder.string(&clientHost)
            try coder.bytes(&memberMetadata)
            try coder.bytes(&memberAssignment)
        }
    }

    public struct Group: KafkaStruct {
        public var errorCode: Int16 = 0
        public var groupId = ""
        public var groupState = ""
        public var protocolType = ""
        public var protocolData = ""
        public var members: [Member] = []
        public var authorizedOperations: Int32 = Int32.min
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&errorCode)
            try coder.string(&groupId)
            try coder.string(&groupState)
            try coder.string(&protocolType)
            try coder.string(&protocolData)
            try coder.array(&members, version: version)
            if version >= 3 { try coder.int32(&authorizedOperations) }
        }
    }

    public var throttleTimeMilliseconds: Int32 = 0
    public var groups: [Group] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.array(&groups, version: version)
    }
}
