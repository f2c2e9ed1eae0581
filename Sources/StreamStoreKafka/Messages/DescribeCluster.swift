import NIOCore

/// DescribeCluster (key 60), v0-v1 (always flexible): the brokers and the controller, which
/// admin clients ask for instead of Metadata.
public struct DescribeClusterRequest: KafkaMessage {
    public static let apiKey = ApiKey.describeCluster
    public var includeClusterAuthorizedOperations = false
    /// 1: brokers, 2: controllers (v1+).
    public var endpointType: Int8 = 1

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.bool(&includeClusterAuthorizedOperations)
        if version >= 1 { try coder.int8(&endpointType) }
    }
}

public struct DescribeClusterResponse: KafkaMessage {
    public static let apiKey = ApiKey.describeCluster

    public struct Broker: KafkaStruct {
        public var brokerId: Int32 = 0
        public var host = ""
        public var port: Int32 = 0
        public var rack: String? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&brokerId)
            try coder.string(&host)
            try coder.int32(&port)
            try coder.nullableString(&rack)
        }
    }

    public var throttleTimeMilliseconds: Int32 = 0
    public var errorCode: Int16 = 0
    public var errorMessage: String? = nil
    public var endpointType: Int8 = 1
    public var clusterId = ""
    public var controllerId: Int32 = -1
    public var brokers: [Broker] = []
    /// Int32.min: not asked for (or not known).
    public var clusterAuthorizedOperations = Int32.min

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int32(&throttleTimeMilliseconds)
        try coder.int16(&errorCode)
        try coder.nullableString(&errorMessage)
        if version >= 1 { try coder.int8(&endpointType) }
        try coder.string(&clusterId)
        try coder.int32(&controllerId)
        try coder.array(&brokers, version: version)
        try coder.int32(&clusterAuthorizedOperations)
    }
}
