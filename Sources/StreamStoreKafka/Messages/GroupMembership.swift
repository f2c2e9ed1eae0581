import NIOCore

/// FindCoordinator (key 10), v0-v2: this broker coordinates every group.
public struct FindCoordinatorRequest: KafkaMessage {
    public static let apiKey = ApiKey.findCoordinator
    public var key = ""
    /// 0: a group; 1: a transactional id.
    public var keyType: Int8 = 0

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&key)
        if version >= 1 { try coder.int8(&keyType) }
    }
}

public struct FindCoordinatorResponse: KafkaMessage {
    public static let apiKey = ApiKey.findCoordinator
    public var throttleTimeMilliseconds: Int32 = 0
    public var errorCode: Int16 = 0
    public var errorMessage: String? = nil
    public var nodeId: Int32 = 0
    public var host = ""
    public var port: Int32 = 0

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
        if version >= 1 { try coder.nullableString(&errorMessage) }
        try coder.int32(&nodeId)
        try coder.string(&host)
        try coder.int32(&port)
    }
}

/// JoinGroup (key 11), v0-v5.
public struct JoinGroupRequest: KafkaMessage {
    public static let apiKey = ApiKey.joinGroup

    public struct JoinProtocol: KafkaStruct {
        public var name = ""
        public var metadata = ByteBuffer()
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.bytes(&metadata)
        }
    }

    public var groupId = ""
    public var sessionTimeoutMilliseconds: Int32 = 10_000
    /// v0 has none: the session timeout serves.
    public var rebalanceTimeoutMilliseconds: Int32 = -1
    public var memberId = ""
    public var groupInstanceId: String? = nil
    public var protocolType = ""
    public var protocols: [JoinProtocol] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.int32(&sessionTimeoutMilliseconds)
        if version >= 1 { try coder.int32(&rebalanceTimeoutMilliseconds) }
        try coder.string(&memberId)
        if version >= 5 { try coder.nullableString(&groupInstanceId) }
        try coder.string(&protocolType)
        try coder.array(&protocols, version: version)
    }
}

public struct JoinGroupResponse: KafkaMessage {
    public static let apiKey = ApiKey.joinGroup

    public struct Member: KafkaStruct {
        public var memberId = ""
        public var groupInstanceId: String? = nil
        public var metadata = ByteBuffer()
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            if version >= 5 { try coder.nullableString(&groupInstanceId) }
            try coder.bytes(&metadata)
        }
    }

    public var throttleTimeMilliseconds: Int32 = 0
    public var errorCode: Int16 = 0
    public var generationId: Int32 = -1
    public var protocolName = ""
    public var leader = ""
    public var memberId = ""
    public var members: [Member] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 2 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
        try coder.int32(&generationId)
        try coder.string(&protocolName)
        try coder.string(&leader)
        try coder.string(&memberId)
        try coder.array(&members, version: version)
    }
}

/// SyncGroup (key 14), v0-v3: the leader hands in every member's assignment.
public struct SyncGroupRequest: KafkaMessage {
    public static let apiKey = ApiKey.syncGroup

    public struct Assignment: KafkaStruct {
        public var memberId = ""
        public var assignment = ByteBuffer()
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            try coder.bytes(&assignment)
        }
    }

    public var groupId = ""
    public var generationId: Int32 = -1
    public var memberId = ""
    public var groupInstanceId: String? = nil
    public var assignments: [Assignment] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.int32(&generationId)
        try coder.string(&memberId)
        if version >= 3 { try coder.nullableString(&groupInstanceId) }
        try coder.array(&assignments, version: version)
    }
}

public struct SyncGroupResponse: KafkaMessage {
    public static let apiKey = ApiKey.syncGroup
    public var throttleTimeMilliseconds: Int32 = 0
    public var errorCode: Int16 = 0
    public var assignment = ByteBuffer()

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
        try coder.bytes(&assignment)
    }
}

/// Heartbeat (key 12), v0-v3.
public struct HeartbeatRequest: KafkaMessage {
    public static let apiKey = ApiKey.heartbeat
    public var groupId = ""
    public var generationId: Int32 = -1
    public var memberId = ""
    public var groupInstanceId: String? = nil

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.int32(&generationId)
        try coder.string(&memberId)
        if version >= 3 { try coder.nullableString(&groupInstanceId) }
    }
}

/// The answer of Heartbeat: only an error code.
public struct HeartbeatResponse: KafkaMessage {
    public static let apiKey = ApiKey.heartbeat
    public var throttleTimeMilliseconds: Int32 = 0
    public var errorCode: Int16 = 0

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
    }
}

/// LeaveGroup (key 13), v0-v3 (v3 leaves several members at once).
public struct LeaveGroupRequest: KafkaMessage {
    public static let apiKey = ApiKey.leaveGroup

    public struct Member: KafkaStruct {
        public var memberId = ""
        public var groupInstanceId: String? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            try coder.nullableString(&groupInstanceId)
        }
    }

    public var groupId = ""
    /// v0-v2.
    public var memberId = ""
    /// v3+.
    public var members: [Member] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        if version >= 3 {
            try coder.array(&members, version: version)
        } else {
            try coder.string(&memberId)
        }
    }
}

public struct LeaveGroupResponse: KafkaMessage {
    public static let apiKey = ApiKey.leaveGroup

    public struct Member: KafkaStruct {
        public var memberId = ""
        public var groupInstanceId: String? = nil
        public var errorCode: Int16 = 0
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            try coder.nullableString(&groupInstanceId)
            try coder.int16(&errorCode)
        }
    }

    public var throttleTimeMilliseconds: Int32 = 0
    public var errorCode: Int16 = 0
    public var members: [Member] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
        if version >= 3 { try coder.array(&members, version: version) }
    }
}
