import NIOCore

/// One field-by-field description of a message serves both directions: a message's
/// `code(_:version:)` calls these with its stored properties, and the coder either reads them
/// from a frame (``KafkaDecoder``) or writes them (``KafkaEncoder``). Requests and responses are
/// therefore symmetric by construction: what the server decodes, a client can encode.
///
/// `isFlexible` selects Kafka's flexible encoding (KIP-482): compact strings, bytes and arrays
/// (lengths as unsigned varints plus one) and tagged fields at the end of every structure.
package protocol KafkaCoder {
    var isFlexible: Bool { get }
    mutating func int8(_ value: inout Int8) throws(KafkaCodecError)
    mutating func int16(_ value: inout Int16) throws(KafkaCodecError)
    mutating func int32(_ value: inout Int32) throws(KafkaCodecError)
    mutating func int64(_ value: inout Int64) throws(KafkaCodecError)
    mutating func bool(_ value: inout Bool) throws(KafkaCodecError)
    mutating func uuid(_ value: inout [UInt8]) throws(KafkaCodecError)
    mutating func nullableString(_ value: inout String?) throws(KafkaCodecError)
    mutating func nullableBytes(_ value: inout ByteBuffer?) throws(KafkaCodecError)
    /// The element count of an array (nil: a null array); reading checks it against the bytes left.
    mutating func arrayCount(_ count: inout Int?, minimumElementBytes: Int) throws(KafkaCodecError)
    /// Tagged fields: none are written, and any read are skipped.
    mutating func taggedFields() throws(KafkaCodecError)
}

/// A structure inside a message (a topic, a partition, a member...), coded field by field.
package protocol KafkaStruct: Sendable, Equatable {
    init()
    mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError)
}

extension KafkaCoder {
    package mutating func string(_ value: inout String) throws(KafkaCodecError) {
        var optional: String? = value
        try nullableString(&optional)
        value = optional ?? ""
    }

    package mutating func bytes(_ value: inout ByteBuffer) throws(KafkaCodecError) {
        var optional: ByteBuffer? = value
        try nullableBytes(&optional)
        value = optional ?? ByteBuffer()
    }

    package mutating func nullableArray<Element: KafkaStruct>(_ value: inout [Element]?, version: Int16) throws(KafkaCodecError) {
        var count = value?.count
        try arrayCount(&count, minimumElementBytes: 1)
        guard let count else {
            value = nil
            return
        }
        var elements = value ?? []
        if elements.count != count { elements = Array(repeating: Element(), count: count) }
        for index in elements.indices {
            try elements[index].code(&self, version: version)
            if isFlexible { try taggedFields() }
        }
        value = elements
    }

    package mutating func array<Element: KafkaStruct>(_ value: inout [Element], version: Int16) throws(KafkaCodecError) {
        var optional: [Element]? = value
        try nullableArray(&optional, version: version)
        value = optional ?? []
    }

    package mutating func int32Array(_ value: inout [Int32]) throws(KafkaCodecError) {
        var count: Int? = value.count
        try arrayCount(&count, minimumElementBytes: 4)
        let wanted = count ?? 0
        if value.count != wanted { value = Array(repeating: 0, count: wanted) }
        for index in value.indices { try int32(&value[index]) }
    }

    package mutating func int64Array(_ value: inout [Int64]) throws(KafkaCodecError) {
        var count: Int? = value.count
        try arrayCount(&count, minimumElementBytes: 8)
        let wanted = count ?? 0
        if value.count != wanted { value = Array(repeating: 0, count: wanted) }
        for index in value.indices { try int64(&value[index]) }
    }

    package mutating func nullableStringArray(_ value: inout [String]?) throws(KafkaCodecError) {
        var count = value?.count
        try arrayCount(&count, minimumElementBytes: 1)
        guard let count else {
            value = nil
            return
        }
        var elements = value ?? []
        if elements.count != count { elements = Array(repeating: "", count: count) }
        for index in elements.indices { try string(&elements[index]) }
        value = elements
    }

    package mutating func stringArray(_ value: inout [String]) throws(KafkaCodecError) {
        var optional: [String]? = value
        try nullableStringArray(&optional)
        value = optional ?? []
    }
}

/// A whole request or response body.
package protocol KafkaMessage: KafkaStruct {
    static var apiKey: ApiKey { get }
}

extension KafkaMessage {
    /// Decodes a body of `version` from `buffer`, which must hold exactly the body.
    package static func decode(from buffer: inout ByteBuffer, version: Int16) throws(KafkaCodecError) -> Self {
        var decoder = KafkaDecoder(buffer: buffer, isFlexible: apiKey.isFlexible(version: version))
        var message = Self()
        try message.code(&decoder, version: version)
        if decoder.isFlexible { try decoder.taggedFields() }
        buffer = decoder.buffer
        return message
    }

    /// Appends the body, encoded as `version`, to `buffer`.
    package func encode(into buffer: inout ByteBuffer, version: Int16) {
        var encoder = KafkaEncoder(buffer: buffer, isFlexible: Self.apiKey.isFlexible(version: version))
        var copy = self
        // Encoding never fails: every failure of the coder is a reading failure.
        try? copy.code(&encoder, version: version)
        if encoder.isFlexible { encoder.taggedFields() }
        buffer = encoder.buffer
    }
}
