import NIOCore

/// DescribeCluster (key 60), v0-v1 (always flexible): the brokers and the controller, which
/// admin clients ask for instead of Metadata.
package struct DescribeClusterRequest: KafkaMessage {
    package static let apiKey = ApiKey.describeCluster
    package var includeClusterAuthorizedOperations = false
    /// 1: brokers, 2: controllers (v1+).
    package var endpointType: Int8 = 1

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.bool(&includeClusterAuthorizedOperations)
        if version >= 1 { try coder.int8(&endpointType) }
    }
}

package struct DescribeClusterResponse: KafkaMessage {
    package static let apiKey = ApiKey.describeCluster

    package struct Broker: KafkaStruct {
        package var brokerId: Int32 = 0
        package var host = ""
        package var port: Int32 = 0
        package var rack: String? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int32(&brokerId)
            try coder.string(&host)
            try coder.int32(&port)
            try coder.nullableString(&rack)
        }
    }

    package var throttleTimeMilliseconds: Int32 = 0
    package var errorCode: Int16 = 0
    package var errorMessage: String? = nil
    package var endpointType: Int8 = 1
    package var clusterId = ""
    package var controllerId: Int32 = -1
    package var brokers: [Broker] = []
    /// Int32.min: not asked for (or not known).
    package var clusterAuthorizedOperations = Int32.min

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
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
