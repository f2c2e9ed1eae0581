import StreamStoreFormat

/// When an append's data is forced to disk, per topic (docs/ARCHITECTURE.md, "Durability").
public enum FlushPolicy: Sendable, Equatable, Hashable, Codable {
    /// fsync before `append` returns: an acknowledged append survives a crash or power loss.
    /// Concurrent appenders to a partition share one fsync (group commit), so throughput grows
    /// with concurrency while each append still waits for its own data to be durable.
    /// Readers see a record only once it is durable. The default.
    case everyAppend
    /// fsync at most `milliseconds` after an append; `append` returns once the data is written to
    /// the operating system. A process crash loses nothing; a power loss may lose the appends of
    /// the last interval.
    case interval(milliseconds: Int64)
    /// Never fsync on append (only on roll and close); the operating system writes back when it
    /// likes. Fastest. A process crash loses nothing; a power loss may lose recent appends.
    case never
}

extension FlushPolicy: ConfigSpelled {
    /// The spelling in `topic.json` and on the command line: `everyAppend`, `never`,
    /// `interval:<milliseconds>`.
    public var configValue: String {
        switch self {
        case .everyAppend: return "everyAppend"
        case .never: return "never"
        case .interval(let milliseconds): return "interval:\(milliseconds)"
        }
    }

    /// Parses the spelling of ``configValue``; nil for any other text.
    public init?(configValue: String) {
        switch configValue {
        case "everyAppend": self = .everyAppend
        case "never": self = .never
        default:
            guard configValue.hasPrefix("interval:"), let milliseconds = Int64(configValue.dropFirst("interval:".count)) else {
                return nil
            }
            self = .interval(milliseconds: milliseconds)
        }
    }

}
