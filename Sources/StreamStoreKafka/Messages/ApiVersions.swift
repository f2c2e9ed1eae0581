import NIOCore

/// ApiVersions (key 18), v0-v3: which APIs and versions the broker serves.
public struct ApiVersionsRequest: KafkaMessage {
    public static let apiKey = ApiKey.apiVersions
    public var clientSoftwareName = ""
    public var clientSoftwareVersion = ""

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 3 {
            try coder.string(&clientSoftwareName)
            try coder.string(&clientSoftwareVersion)
        }
    }
}

public struct ApiVersionsResponse: KafkaMessage {
    public static let apiKey = ApiKey.apiVersions

    public struct Api: KafkaStruct {
        public var apiKey: Int16 = 0
        public var minVersion: Int16 = 0
        public var maxVersion: Int16 = 0

        public init() {}

        public init(apiKey: Int16, minVersion: Int16, maxVersion: Int16) {
            self.apiKey = apiKey
            self.minVersion = minVersion
            self.maxVersion = maxVersion
        }

        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&apiKey)
            try coder.int16(&minVersion)
            try coder.int16(&maxVersion)
        }
    }

    public var errorCode: Int16 = 0
    public var apiKeys: [Api] = []
    public var throttleTimeMilliseconds: Int32 = 0

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int16(&errorCode)
        try coder.array(&apiKeys, version: version)
        if version >= 1 { try coder.int32(&throttleTimeMilliseconds) }
    }

    /// The answer listing every API this server serves.
    static func served(errorCode: KafkaErrorCode = .none) -> ApiVersionsResponse {
        var response = ApiVersionsResponse()
        response.errorCode = errorCode.rawValue
        response.apiKeys = ApiKey.allCases.compactMap { key in
            key.supportedVersions.map { Api(apiKey: key.rawValue, minVersion: $0.lowerBound, maxVersion: $0.upperBound) }
        }
        return response
    }
}
