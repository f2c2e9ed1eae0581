import NIOCore

/// DescribeConfigs (key 32), v0-v4 (v4 flexible): the settings of topics and of the broker,
/// as admin clients show them.
package struct DescribeConfigsRequest: KafkaMessage {
    package static let apiKey = ApiKey.describeConfigs

    package struct Resource: KafkaStruct {
        /// 2: topic, 4: broker, 8: broker logger.
        package var resourceType: Int8 = 0
        package var resourceName = ""
        /// nil: every config.
        package var configurationKeys: [String]? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int8(&resourceType)
            try coder.string(&resourceName)
            try coder.nullableStringArray(&configurationKeys)
        }
    }

    package var resources: [Resource] = []
    package var includeSynonyms = false
    package var includeDocumentation = false

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.array(&resources, version: version)
        if version >= 1 { try coder.bool(&includeSynonyms) }
        if version >= 3 { try coder.bool(&includeDocumentation) }
    }
}

package struct DescribeConfigsResponse: KafkaMessage {
    package static let apiKey = ApiKey.describeConfigs

    package struct Synonym: KafkaStruct {
        package var name = ""
        package var value: String? = nil
        package var source: Int8 = 0
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.nullableString(&value)
            try coder.int8(&source)
        }
    }

    package struct Config: KafkaStruct {
        package var name = ""
        package var value: String? = nil
        package var readOnly = false
        /// v0 only; later versions say it with ``configSource``.
        package var isDefault = false
        /// 1: the topic's own setting, 4: the broker's static setting, 5: the default.
        package var configSource: Int8 = -1
        package var isSensitive = false
        package var synonyms: [Synonym] = []
        /// v3+: 1 boolean, 2 string, 3 int, 5 long, 7 list.
        package var configType: Int8 = 0
        package var documentation: String? = nil
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.nullableString(&value)
            try coder.bool(&readOnly)
            if version == 0 { try coder.bool(&isDefault) }
            if version >= 1 { try coder.int8(&configSource) }
            try coder.bool(&isSensitive)
            if version >= 1 { try coder.array(&synonyms, version: version) }
            if version >= 3 {
                try coder.int8(&configType)
                try coder.nullableString(&documentation)
            }
        }
    }

    package struct Result: KafkaStruct {
        package var errorCode: Int16 = 0
        package var errorMessage: String? = nil
        package var resourceType: Int8 = 0
        package var resourceName = ""
        package var configs: [Config] = []
        package init() {}
        package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&errorCode)
            try coder.nullableString(&errorMessage)
            try coder.int8(&resourceType)
            try coder.string(&resourceName)
            try coder.array(&configs, version: version)
        }
    }

    package var throttleTimeMilliseconds: Int32 = 0
    package var results: [Result] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int32(&throttleTimeMilliseconds)
        try coder.array(&results, version: version)
    }
}
