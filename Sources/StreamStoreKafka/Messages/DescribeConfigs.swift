import NIOCore

/// DescribeConfigs (key 32), v0-v4 (v4 flexible): the settings of topics and of the broker,
/// as admin clients show them.
public struct DescribeConfigsRequest: KafkaMessage {
    public static let apiKey = ApiKey.describeConfigs

    public struct Resource: KafkaStruct {
        /// 2: topic, 4: broker, 8: broker logger.
        public var resourceType: Int8 = 0
        public var resourceName = ""
        /// nil: every config.
        public var configurationKeys: [String]? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int8(&resourceType)
            try coder.string(&resourceName)
            try coder.nullableStringArray(&configurationKeys)
        }
    }

    public var resources: [Resource] = []
    public var includeSynonyms = false
    public var includeDocumentation = false

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.array(&resources, version: version)
        if version >= 1 { try coder.bool(&includeSynonyms) }
        if version >= 3 { try coder.bool(&includeDocumentation) }
    }
}

public struct DescribeConfigsResponse: KafkaMessage {
    public static let apiKey = ApiKey.describeConfigs

    public struct Synonym: KafkaStruct {
        public var name = ""
        public var value: String? = nil
        public var source: Int8 = 0
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.string(&name)
            try coder.nullableString(&value)
            try coder.int8(&source)
        }
    }

    public struct Config: KafkaStruct {
        public var name = ""
        public var value: String? = nil
        public var readOnly = false
        /// v0 only; later versions say it with ``configSource``.
        public var isDefault = false
        /// 1: the topic's own setting, 4: the broker's static setting, 5: the default.
        public var configSource: Int8 = -1
        public var isSensitive = false
        public var synonyms: [Synonym] = []
        /// v3+: 1 boolean, 2 string, 3 int, 5 long, 7 list.
        public var configType: Int8 = 0
        public var documentation: String? = nil
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
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

    public struct Result: KafkaStruct {
        public var errorCode: Int16 = 0
        public var errorMessage: String? = nil
        public var resourceType: Int8 = 0
        public var resourceName = ""
        public var configs: [Config] = []
        public init() {}
        public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
            try coder.int16(&errorCode)
            try coder.nullableString(&errorMessage)
            try coder.int8(&resourceType)
            try coder.string(&resourceName)
            try coder.array(&configs, version: version)
        }
    }

    public var throttleTimeMilliseconds: Int32 = 0
    public var results: [Result] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int32(&throttleTimeMilliseconds)
        try coder.array(&results, version: version)
    }
}
