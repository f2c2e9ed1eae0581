import StreamStore

/// A topic's settings as the command line spells them (`--flush always`, `--retention 7d`,
/// `--retention-bytes unlimited`), for what `create`, `alter`, `describe` and `retention` print.
/// The store spells some differently in `topic.json` (`everyAppend`, milliseconds, -1 for no
/// limit), which is not what the flags take.
enum TopicSettingsText {
    /// `always`, `never`, `interval:200ms`.
    static func flush(_ policy: FlushPolicy) -> String {
        switch policy {
        case .everyAppend: return "always"
        case .never: return "never"
        case .interval(let milliseconds): return "interval:\(Format.duration(milliseconds: milliseconds))"
        }
    }

    /// `7d`, `36h`, or `unlimited`.
    static func retention(_ milliseconds: Int64?) -> String {
        milliseconds.map { Format.duration(milliseconds: $0) } ?? "unlimited"
    }

    /// `10m`, or `off`.
    static func dedupeWindow(_ milliseconds: Int64?) -> String {
        milliseconds.map { Format.duration(milliseconds: $0) } ?? "off"
    }

    /// `1.0 GiB`, or `unlimited`.
    static func byteLimit(_ bytes: Int64?) -> String {
        bytes.map(Format.bytes) ?? "unlimited"
    }

    /// The settings the flags set, named as the flags are, in the order `create --help` lists them.
    static func settings(_ config: TopicConfig) -> [(name: String, value: String)] {
        [
            ("partitions", String(config.partitionCount)),
            ("flush", flush(config.flush)),
            ("compression", config.compression.configValue),
            ("segment-bytes", Format.bytes(Int64(config.segmentBytes))),
            ("retention", retention(config.retentionMilliseconds)),
            ("retention-bytes", byteLimit(config.retentionBytes)),
            ("dedupe-window", dedupeWindow(config.dedupeWindowMilliseconds)),
        ]
    }

    /// `1 partition, flush always, compression none, segments of 1.0 GiB, retention 7d,
    /// retention-bytes unlimited`, and `, dedupe-window 10m` when the topic has one.
    static func summary(_ config: TopicConfig) -> String {
        let partitions = "\(config.partitionCount) partition\(config.partitionCount == 1 ? "" : "s")"
        let dedupe = config.dedupeWindowMilliseconds.map { ", dedupe-window \(Format.duration(milliseconds: $0))" } ?? ""
        return "\(partitions), flush \(flush(config.flush)), compression \(config.compression.configValue), segments of \(Format.bytes(Int64(config.segmentBytes))), retention \(retention(config.retentionMilliseconds)), retention-bytes \(byteLimit(config.retentionBytes))\(dedupe)"
    }

    /// How `new` differs from `old`, one `(setting, old value, new value)` per change: the
    /// flags' settings by the flags' names and spellings, any other by the store's words.
    static func changes(from old: TopicConfig, to new: TopicConfig) -> [(name: String, old: String, new: String)] {
        let before = settings(old)
        let after = settings(new)
        var result: [(name: String, old: String, new: String)] = []
        for index in before.indices where before[index].value != after[index].value {
            result.append((before[index].name, before[index].value, after[index].value))
        }
        // Settings no flag sets (they can only differ in a topic.json edited by hand).
        var flagless = old
        flagless.partitionCount = new.partitionCount
        flagless.flush = new.flush
        flagless.compression = new.compression
        flagless.segmentBytes = new.segmentBytes
        flagless.retentionMilliseconds = new.retentionMilliseconds
        flagless.retentionBytes = new.retentionBytes
        flagless.dedupeWindowMilliseconds = new.dedupeWindowMilliseconds
        for phrase in new.differences(from: flagless) {
            // "name is NEW, not OLD"
            guard let isRange = phrase.range(of: " is "), let notRange = phrase.range(of: ", not ", range: isRange.upperBound..<phrase.endIndex) else { continue }
            result.append((String(phrase[..<isRange.lowerBound]), String(phrase[notRange.upperBound...]), String(phrase[isRange.upperBound..<notRange.lowerBound])))
        }
        return result
    }
}
