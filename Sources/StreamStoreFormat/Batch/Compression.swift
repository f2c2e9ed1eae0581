import CZstd

/// How a topic's batches are compressed on disk (docs/FORMAT.md, "Compression").
///
/// As in Kafka, the records section of a batch is compressed as one frame; the 61-byte header
/// and its record count stay readable without decompressing, and the CRC covers the compressed
/// bytes. Batches keep the codec they were written with, so a segment may mix codecs.
public enum Compression: Sendable, Hashable, ConfigSpelled, CustomStringConvertible {
    /// Records stored as encoded (Kafka codec 0): the fastest to write and to read from memory.
    case none
    /// zstd at `level` (1 fastest ... 19 smallest; 3 is zstd's and our default).
    case zstd(level: Int)

    /// The level a plain `zstd` setting means: 3, zstd's own default, a good trade of speed for ratio.
    public static let defaultZstdLevel = 3
    /// Levels zstd accepts: negative ones trade ratio for speed, 22 is the slowest and smallest.
    public static let zstdLevels = Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel())

    /// Kafka's codec id in bits 0-2 of the batch attributes.
    var codecID: Int16 {
        switch self {
        case .none: return 0
        case .zstd: return Compression.zstdCodecID
        }
    }

    package static let zstdCodecID: Int16 = 4

    /// The spelling in `topic.json` and on the command line: `none`, `zstd`, `zstd:LEVEL`.
    public var configValue: String {
        switch self {
        case .none: return "none"
        case .zstd(let level): return "zstd:\(level)"
        }
    }

    /// The setting's spelling, as ``configValue``.
    public var description: String { configValue }

    /// Parses the spelling of ``configValue``; `zstd` alone means level ``defaultZstdLevel``.
    /// Nil for any other text.
    public init?(configValue: String) {
        if configValue == "none" {
            self = .none
        } else if configValue == "zstd" {
            self = .zstd(level: Compression.defaultZstdLevel)
        } else if configValue.hasPrefix("zstd:"), let level = Int(configValue.dropFirst(5)) {
            self = .zstd(level: level)
        } else {
            return nil
        }
    }
}
