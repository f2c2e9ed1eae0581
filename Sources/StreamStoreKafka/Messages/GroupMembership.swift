import NIOCore

/// FindCoordinator (key 10), v0-v2: this broker coordinates every group.
package struct FindCoordinatorRequest: KafkaMessage {
    package static let apiKey = ApiKey.findCoordinator
    package var key = ""
    /// 0: a group; 1: a transactional id.
    package var keyType: Int8 = 0

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&key)
        if version >= 1 { try coder.int8(&keyType) }
    }
}

package struct FindCoordinatorResponse: KafkaMessage {
    package static let apiKey = ApiKey.findCoordinator
    package var throttleTimeMilliseconds: Int32 = 0
    package var errorCode: Int16 = 0
    package var errorMessage: String? = nil
    package var nodeId: Int32 = 0
    package var host = ""
    package var port: Int32 = 0

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
        if version >= 1 { try coder.nullableString(&errorMessage) }
        try coder.int32(&nodeId)
        try coder.string(&host)
        try coder.int32(&port)
    }
}

/// JoinGroup (key 11), v0-v5.
package struct JoinGroupRequest: KafkaMessage {
    package static let apiKey = ApiKey.joinGroup

    package struct JoinProtocol: KafkaStruct {
        package var name = ""
        package var metadata = ByteBuffer()
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.bytes(&metadata)
        }
    }

    package var groupId = ""
    package var sessionTimeoutMilliseconds: Int32 = 10_000
    /// v0 has none: the session timeout serves.
    package var rebalanceTimeoutMilliseconds: Int32 = -1
    package var memberId = ""
    package var groupInstanceId: String? = nil
    package var protocolType = ""
    package var protocols: [JoinProtocol] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.int32(&sessionTimeoutMilliseconds)
        if version >= 1 { try coder.int32(&rebalanceTimeoutMilliseconds) }
        try coder.string(&memberId)
        if version >= 5 { try coder.nullableString(&groupInstanceId) }
        try coder.string(&protocolType)
        try coder.array(&protocols, version: version)
    }
}

package struct JoinGroupResponse: KafkaMessage {
    package static let apiKey = ApiKey.joinGroup

    package struct Member: KafkaStruct {
        package var memberId = ""
        package var groupInstanceId: String? = nil
        package var metadata = ByteBuffer()
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            if version >= 5 { try coder.nullableString(&groupInstanceId) }
            try coder.bytes(&metadata)
        }
    }

    package var throttleTimeMilliseconds: Int32 = 0
    package var errorCode: Int16 = 0
    package var generationId: Int32 = -1
    package var protocolName = ""
    package var leader = ""
    package var memberId = ""
    package var members: [Member] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
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
package struct SyncGroupRequest: KafkaMessage {
    package static let apiKey = ApiKey.syncGroup

    package struct Assignment: KafkaStruct {
        package var memberId = ""
        package var assignment = ByteBuffer()
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            try coder.bytes(&assignment)
        }
    }

    package var groupId = ""
    package var generationId: Int32 = -1
    package var memberId = ""
    package var groupInstanceId: String? = nil
    package var assignments: [Assignment] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.int32(&generationId)
        try coder.string(&memberId)
        if version >= 3 { try coder.nullableString(&groupInstanceId) }
        try coder.array(&assignments, version: version)
    }
}

package struct SyncGroupResponse: KafkaMessage {
    package static let apiKey = ApiKey.syncGroup
    package var throttleTimeMilliseconds: Int32 = 0
    package var errorCode: Int16 = 0
    package var assignment = ByteBuffer()

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
        try coder.bytes(&assignment)
    }
}

/// Heartbeat (key 12), v0-v3.
package struct HeartbeatRequest: KafkaMessage {
    package static let apiKey = ApiKey.heartbeat
    package var groupId = ""
    package var generationId: Int32 = -1
    package var memberId = ""
    package var groupInstanceId: String? = nil

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        try coder.int32(&generationId)
        try coder.string(&memberId)
        if version >= 3 { try coder.nullableString(&groupInstanceId) }
    }
}

/// The answer of Heartbeat: only an error code.
package struct HeartbeatResponse: KafkaMessage {
    package static let apiKey = ApiKey.heartbeat
    package var throttleTimeMilliseconds: Int32 = 0
    package var errorCode: Int16 = 0

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
    }
}

/// LeaveGroup (key 13), v0-v3 (v3 leaves several members at once).
package struct LeaveGroupRequest: KafkaMessage {
    package static let apiKey = ApiKey.leaveGroup

    package struct Member: KafkaStruct {
        package var memberId = ""
        package var groupInstanceId: String? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            try coder.nullableString(&groupInstanceId)
        }
    }

    package var groupId = ""
    /// v0-v2.
    package var memberId = ""
    /// v3+.
    package var members: [Member] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&groupId)
        if version >= 3 {
            try coder.array(&members, version: version)
        } else {
            try coder.string(&memberId)
        }
    }
}

package struct LeaveGroupResponse: KafkaMessage {
    package static let apiKey = ApiKey.leaveGroup

    package struct Member: KafkaStruct {
        package var memberId = ""
        package var groupInstanceId: String? = nil
        package var errorCode: Int16 = 0
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&memberId)
            try coder.nullableString(&groupInstanceId)
            try coder.int16(&errorCode)
        }
    }

    package var throttleTimeMilliseconds: Int32 = 0
    package var errorCode: Int16 = 0
    package var members: [Member] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
        try coder.int16(&errorCode)
        if version >= 3 { try coder.array(&members, version: version) }
    }
}
