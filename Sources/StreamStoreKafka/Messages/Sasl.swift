import NIOCore

/// SaslHandshake (key 17), v0-v1: the client names the mechanism it wants; the answer lists
/// the mechanisms offered. After v0 the client sends bare SASL tokens in length-prefixed
/// frames; after v1 it wraps each in a SaslAuthenticate request.
public struct SaslHandshakeRequest: KafkaMessage {
    public static let apiKey = ApiKey.saslHandshake
    public var mechanism = ""

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&mechanism)
    }
}

public struct SaslHandshakeResponse: KafkaMessage {
    public static let apiKey = ApiKey.saslHandshake
    public var errorCode: Int16 = 0
    public var mechanisms: [String] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int16(&errorCode)
        try coder.stringArray(&mechanisms)
    }
}

/// SaslAuthenticate (key 36), v0-v2 (v2 flexible): one SASL token each way.
public struct SaslAuthenticateRequest: KafkaMessage {
    public static let apiKey = ApiKey.saslAuthenticate
    public var authBytes = ByteBuffer()

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.bytes(&authBytes)
    }
}

public struct SaslAuthenticateResponse: KafkaMessage {
    public static let apiKey = ApiKey.saslAuthenticate
    public var errorCode: Int16 = 0
    public var errorMessage: String? = nil
    public var authBytes = ByteBuffer()
    /// How long the session may last before the client must authenticate again; 0: for as
    /// long as the connection lives (this server does not re-authenticate).
    public var sessionLifetimeMilliseconds: Int64 = 0

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int16(&errorCode)
        try coder.nullableString(&errorMessage)
        try coder.bytes(&authBytes)
        if version >= 1 { try coder.int64(&sessionLifetimeMilliseconds) }
    }
}
