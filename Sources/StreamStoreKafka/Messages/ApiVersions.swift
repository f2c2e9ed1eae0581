import NIOCore

/// ApiVersions (key 18), v0-v3: which APIs and versions the broker serves.
package struct ApiVersionsRequest: KafkaMessage {
    package static let apiKey = ApiKey.apiVersions
    package var clientSoftwareName = ""
    package var clientSoftwareVersion = ""

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        if version >= 3 {
            try coder.string(&clientSoftwareName)
            try coder.string(&clientSoftwareVersion)
        }
    }
}

package struct ApiVersionsResponse: KafkaMessage {
    package static let apiKey = ApiKey.apiVersions

    package struct Api: KafkaStruct {
        package var apiKey: Int16 = 0
        package var minVersion: Int16 = 0
        package var maxVersion: Int16 = 0

        package init() {}

        package init(apiKey: Int16, minVersion: Int16, maxVersion: Int16) {
            self.apiKey = apiKey
            self.minVersion = minVersion
            self.maxVersion = maxVersion
        }

        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&apiKey)
            try coder.int16(&minVersion)
            try coder.int16(&maxVersion)
        }
    }

    package var errorCode: Int16 = 0
    package var apiKeys: [Api] = []
    package var throttleTimeMilliseconds: Int32 = 0

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
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
