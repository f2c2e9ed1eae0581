import NIOCore

/// A request's header (v1, or v2 with tagged fields for flexible versions). The client id is
/// a classic nullable string in both.
@_spi(Fuzzing) public struct RequestHeader: Sendable, Equatable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?

    public init(apiKey: Int16, apiVersion: Int16, correlationId: Int32, clientId: String?) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
    }

    /// Reads the header at the start of a request frame. An unknown API key or unsupported
    /// version still yields the header (the caller answers or closes); only truncation throws.
    public static func decode(from buffer: inout ByteBuffer) throws(KafkaCodecError) -> RequestHeader {
        var decoder = KafkaDecoder(buffer: buffer, isFlexible: false)
        var header = RequestHeader(apiKey: 0, apiVersion: 0, correlationId: 0, clientId: nil)
        try decoder.int16(&header.apiKey)
        try decoder.int16(&header.apiVersion)
        try decoder.int32(&header.correlationId)
        try decoder.nullableString(&header.clientId)
        if let key = ApiKey(rawValue: header.apiKey), key.requestHeaderVersion(header.apiVersion) >= 2 {
            try decoder.taggedFields()
        }
        buffer = decoder.buffer
        return header
    }

    public func encode(into buffer: inout ByteBuffer) {
        var encoder = KafkaEncoder(buffer: buffer, isFlexible: false)
        var copy = self
        encoder.int16(&copy.apiKey)
        encoder.int16(&copy.apiVersion)
        encoder.int32(&copy.correlationId)
        encoder.nullableString(&copy.clientId)
        if let key = ApiKey(rawValue: apiKey), key.requestHeaderVersion(apiVersion) >= 2 { encoder.taggedFields() }
        buffer = encoder.buffer
    }
}

/// A response's header: the correlation id (v0), plus tagged fields (v1).
@_spi(Fuzzing) public struct ResponseHeader: Sendable, Equatable {
    public var correlationId: Int32

    public init(correlationId: Int32) { self.correlationId = correlationId }

    public func encode(into buffer: inout ByteBuffer, headerVersion: Int16) {
        buffer.writeInteger(correlationId)
        if headerVersion >= 1 { KafkaVarint.writeUnsigned(0, to: &buffer) }
    }

    public static func decode(from buffer: inout ByteBuffer, headerVersion: Int16) throws(KafkaCodecError) -> ResponseHeader {
        var decoder = KafkaDecoder(buffer: buffer, isFlexible: true)
        var correlationId: Int32 = 0
        try decoder.int32(&correlationId)
        if headerVersion >= 1 { try decoder.taggedFields() }
        buffer = decoder.buffer
        return ResponseHeader(correlationId: correlationId)
    }
}
