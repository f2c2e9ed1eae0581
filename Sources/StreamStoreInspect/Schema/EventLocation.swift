/// Where the schema check saw something: a record of the topic, or a line of a samples file.
package enum EventLocation: Sendable, Equatable {
    /// A record: its partition, offset and timestamp (milliseconds since the epoch).
    case record(partition: Int, offset: Int64, timestampMilliseconds: Int64)
    /// A line of the file given to `--against` (from 1).
    case sample(line: Int)

    /// `2@1041` for a record (partition 2, offset 1041), `line 7` for a sample.
    package var text: String {
        switch self {
        case .record(let partition, let offset, _): return "\(partition)@\(offset)"
        case .sample(let line): return "line \(line)"
        }
    }

    /// The record's timestamp; nil for a sample.
    package var timestampMilliseconds: Int64? {
        guard case .record(_, _, let timestamp) = self else { return nil }
        return timestamp
    }
}
