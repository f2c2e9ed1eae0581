/// Why a Kafka request or response could not be decoded. Every decoder reports malformed input
/// as one of these, never by trapping or reading past its buffer.
@_spi(Fuzzing) public enum KafkaCodecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes ended inside a field (`needed` more bytes were wanted for `field`).
    case truncated(field: String, needed: Int)
    /// A length or count that cannot be right: negative where null is not allowed, or larger
    /// than the bytes left in the frame.
    case invalidLength(field: String, length: Int64)
    /// A varint longer than its type allows.
    case invalidVarint(field: String)
    /// A string that is not UTF-8.
    case invalidString(field: String)
    /// An API key this server does not know.
    case unknownApiKey(Int16)
    /// A version of a known API that this server does not serve.
    case unsupportedVersion(apiKey: Int16, version: Int16)
    /// A frame longer than the server accepts, or with a negative length.
    case frameTooLarge(length: Int64, limit: Int)

    public var description: String {
        switch self {
        case .truncated(let field, let needed): return "truncated at \(field) (\(needed) more bytes needed)"
        case .invalidLength(let field, let length): return "invalid length \(length) for \(field)"
        case .invalidVarint(let field): return "invalid varint in \(field)"
        case .invalidString(let field): return "\(field) is not UTF-8"
        case .unknownApiKey(let key): return "unknown API key \(key)"
        case .unsupportedVersion(let key, let version): return "API key \(key) version \(version) is not supported"
        case .frameTooLarge(let length, let limit): return "frame length \(length) is outside 0...\(limit)"
        }
    }
}
