import NIOCore

/// SaslHandshake (key 17), v0-v1: the client names the mechanism it wants; the answer lists
/// the mechanisms offered. After v0 the client sends bare SASL tokens in length-prefixed
/// frames; after v1 it wraps each in a SaslAuthenticate request.
package struct SaslHandshakeRequest: KafkaMessage {
    package static let apiKey = ApiKey.saslHandshake
    package var mechanism = ""

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&mechanism)
    }
}

package struct SaslHandshakeResponse: KafkaMessage {
    package static let apiKey = ApiKey.saslHandshake
    package var errorCode: Int16 = 0
    package var mechanisms: [String] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int16(&errorCode)
        try coder.stringArray(&mechanisms)
    }
}

/// SaslAuthenticate (key 36), v0-v2 (v2 flexible): one SASL token each way.
package struct SaslAuthenticateRequest: KafkaMessage {
    package static let apiKey = ApiKey.saslAuthenticate
    package var authBytes = ByteBuffer()

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.bytes(&authBytes)
    }
}

package struct SaslAuthenticateResponse: KafkaMessage {
    package static let apiKey = ApiKey.saslAuthenticate
    package var errorCode: Int16 = 0
    package var errorMessage: String? = nil
    package var authBytes = ByteBuffer()
    /// How long the session may last before the client must authenticate again; 0: for as
    /// long as the connection lives (this server does not re-authenticate).
    package var sessionLifetimeMilliseconds: Int64 = 0

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.int16(&errorCode)
        try coder.nullableString(&errorMessage)
        try coder.bytes(&authBytes)
        if version >= 1 { try coder.int64(&sessionLifetimeMilliseconds) }
    }
}
