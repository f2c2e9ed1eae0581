import StreamStoreFormat
import StreamStoreLog
/// A topic's settings, set at creation, kept in `topic.json`, and changeable later with
/// ``Store/updateTopic(_:_:)`` (all but the partition count).
public struct TopicConfig: Sendable, Equatable, Hashable, Codable {
    /// Partitions, each an independent ordered log. At least 1.
    public var partitionCount: Int
    /// A segment rolls when it would grow past this many bytes (default 1 GiB).
    public var segmentBytes: Int
    /// A segment rolls when its first batch is older than this (default 7 days).
    public var segmentMilliseconds: Int64
    /// One offset-index entry per this many bytes of log (default 4096).
    public var indexIntervalBytes: Int
    /// Largest size of one index file; a full index rolls the segment (default 10 MiB).
    public var maxIndexBytes: Int
    /// When appends are made durable, and so when `append` returns (default `.everyAppend`:
    /// fsynced first). See ``/StreamStoreLog/FlushPolicy``.
    public var flush: FlushPolicy
    /// A caller-supplied timestamp further than this in the future is rejected (default 1 hour).
    public var maxTimestampSkewMilliseconds: Int64
    /// How new batches are compressed (default none). Changing it later affects only batches
    /// written afterwards; old ones keep their codec.
    public var compression: Compression
    /// Segments whose newest record is older than this are deleted (default 7 days; nil keeps
    /// records forever). See ``Store/enforceRetention(topic:dryRun:)``.
    public var retentionMilliseconds: Int64?
    /// Oldest segments are deleted while a partition holds more than this many bytes (default
    /// nil: no size limit). A partition then stays within this plus one segment.
    public var retentionBytes: Int64?
    /// Producer de-duplication: a record whose `message-id` header was appended to this topic
    /// less than this long ago is not appended again; the append reports it as a duplicate with
    /// the original's offset (``/StreamStoreLog/AppendReceipt/duplicates``). Nil (the default) turns it off.
    /// The window is rebuilt from the log when the store opens. See ``dedupeMaxMessageIDs``.
    /// A record redriven from the dead-letter topic is a new delivery of its message: its
    /// `redrive-count` header is part of what the window compares, so each redrive is written
    /// once (``Store/redriveDeadLetters(topic:group:limit:dryRun:filter:)``).
    public var dedupeWindowMilliseconds: Int64?
    /// Most message ids the de-duplication window keeps (default 100,000, about 150 bytes each
    /// plus the id). At the bound the oldest id is forgotten before its window ends, so memory
    /// never depends on the append rate; a retry of a message forgotten that way is appended again.
    public var dedupeMaxMessageIDs: Int

    /// A config with every setting given or at its default.
    public init(
        partitionCount: Int = 1,
        segmentBytes: Int = 1 << 30,
        segmentMilliseconds: Int64 = 7 * 24 * 3_600_000,
        indexIntervalBytes: Int = 4096,
        maxIndexBytes: Int = Limits.maxIndexBytes,
        flush: FlushPolicy = .everyAppend,
        maxTimestampSkewMilliseconds: Int64 = 3_600_000,
        compression: Compression = .none,
        retentionMilliseconds: Int64? = 7 * 24 * 3_600_000,
        retentionBytes: Int64? = nil,
        dedupeWindowMilliseconds: Int64? = nil,
        dedupeMaxMessageIDs: Int = 100_000
    ) {
        self.partitionCount = partitionCount
        self.segmentBytes = segmentBytes
        self.segmentMilliseconds = segmentMilliseconds
        self.indexIntervalBytes = indexIntervalBytes
        self.maxIndexBytes = maxIndexBytes
        self.flush = flush
        self.maxTimestampSkewMilliseconds = maxTimestampSkewMilliseconds
        self.compression = compression
        self.retentionMilliseconds = retentionMilliseconds
        self.retentionBytes = retentionBytes
        self.dedupeWindowMilliseconds = dedupeWindowMilliseconds
        self.dedupeMaxMessageIDs = dedupeMaxMessageIDs
    }

    private enum CodingKeys: String, CodingKey {
        case partitionCount, segmentBytes, segmentMilliseconds, indexIntervalBytes, maxIndexBytes, flush
        case maxTimestampSkewMilliseconds, compression, retentionMilliseconds, retentionBytes
        case dedupeWindowMilliseconds, dedupeMaxMessageIDs
    }

    /// Reads `topic.json`; settings added in later versions take their defaults when absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TopicConfig()
        partitionCount = try container.decode(Int.self, forKey: .partitionCount)
        segmentBytes = try container.decodeIfPresent(Int.self, forKey: .segmentBytes) ?? defaults.segmentBytes
        segmentMilliseconds = try container.decodeIfPresent(Int64.self, forKey: .segmentMilliseconds) ?? defaults.segmentMilliseconds
        indexIntervalBytes = try container.decodeIfPresent(Int.self, forKey: .indexIntervalBytes) ?? defaults.indexIntervalBytes
        maxIndexBytes = try container.decodeIfPresent(Int.self, forKey: .maxIndexBytes) ?? defaults.maxIndexBytes
        flush = try container.decodeIfPresent(FlushPolicy.self, forKey: .flush) ?? defaults.flush
        maxTimestampSkewMilliseconds =
            try container.decodeIfPresent(Int64.self, forKey: .maxTimestampSkewMilliseconds) ?? defaults.maxTimestampSkewMilliseconds
        compression = try container.decodeIfPresent(Compression.self, forKey: .compression) ?? defaults.compression
        // -1 spells "no limit" in the file, so an absent key (an older file) can mean the default.
        let milliseconds = try container.decodeIfPresent(Int64.self, forKey: .retentionMilliseconds)
        retentionMilliseconds = milliseconds.map { $0 < 0 ? nil : $0 } ?? defaults.retentionMilliseconds
        let bytes = try container.decodeIfPresent(Int64.self, forKey: .retentionBytes)
        retentionBytes = bytes.map { $0 < 0 ? nil : $0 } ?? defaults.retentionBytes
        let window = try container.decodeIfPresent(Int64.self, forKey: .dedupeWindowMilliseconds)
        dedupeWindowMilliseconds = window.map { $0 < 0 ? nil : $0 } ?? defaults.dedupeWindowMilliseconds
        dedupeMaxMessageIDs = try container.decodeIfPresent(Int.self, forKey: .dedupeMaxMessageIDs) ?? defaults.dedupeMaxMessageIDs
    }

    /// Writes `topic.json`; a setting that is nil (no limit) is written as -1.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(partitionCount, forKey: .partitionCount)
        try container.encode(segmentBytes, forKey: .segmentBytes)
        try container.encode(segmentMilliseconds, forKey: .segmentMilliseconds)
        try container.encode(indexIntervalBytes, forKey: .indexIntervalBytes)
        try container.encode(maxIndexBytes, forKey: .maxIndexBytes)
        try container.encode(flush, forKey: .flush)
        try container.encode(maxTimestampSkewMilliseconds, forKey: .maxTimestampSkewMilliseconds)
        try container.encode(compression, forKey: .compression)
        try container.encode(retentionMilliseconds ?? -1, forKey: .retentionMilliseconds)
        try container.encode(retentionBytes ?? -1, forKey: .retentionBytes)
        try container.encode(dedupeWindowMilliseconds ?? -1, forKey: .dedupeWindowMilliseconds)
        try container.encode(dedupeMaxMessageIDs, forKey: .dedupeMaxMessageIDs)
    }

    /// Throws `.invalidConfig` naming the first setting out of range.
    public func validate() throws(StreamStoreError) {
        func fail(_ message: String) -> StreamStoreError { StreamStoreError(.invalidConfig, message) }
        guard (1...Limits.maxPartitions).contains(partitionCount) else {
            throw fail("partitionCount must be 1...\(Limits.maxPartitions), not \(partitionCount).")
        }
        guard (Limits.minSegmentBytes...Limits.maxSegmentBytes).contains(segmentBytes) else {
            throw fail("segmentBytes must be \(Limits.minSegmentBytes)...\(Limits.maxSegmentBytes), not \(segmentBytes).")
        }
        guard segmentMilliseconds > 0 else { throw fail("segmentMilliseconds must be positive.") }
        guard indexIntervalBytes > 0 else { throw fail("indexIntervalBytes must be positive.") }
        guard (TimeIndex.entryBytes * 4...Limits.maxIndexBytes).contains(maxIndexBytes) else {
            throw fail("maxIndexBytes must be \(TimeIndex.entryBytes * 4)...\(Limits.maxIndexBytes), not \(maxIndexBytes).")
        }
        if case .interval(let milliseconds) = flush, milliseconds <= 0 {
            throw fail("A flush interval must be positive.")
        }
        guard maxTimestampSkewMilliseconds >= 0 else { throw fail("maxTimestampSkewMilliseconds must not be negative.") }
        if let retentionMilliseconds, retentionMilliseconds <= 0 { throw fail("retentionMilliseconds must be positive (or nil for no limit).") }
        if let retentionBytes, retentionBytes <= 0 { throw fail("retentionBytes must be positive (or nil for no limit).") }
        if let dedupeWindowMilliseconds, dedupeWindowMilliseconds <= 0 {
            throw fail("dedupeWindowMilliseconds must be positive (or nil for no de-duplication).")
        }
        guard (1...Limits.maxDedupeMessageIDs).contains(dedupeMaxMessageIDs) else {
            throw fail("dedupeMaxMessageIDs must be 1...\(Limits.maxDedupeMessageIDs), not \(dedupeMaxMessageIDs).")
        }
        if case .zstd(let level) = compression, !Compression.zstdLevels.contains(level) {
            throw fail("zstd level must be \(Compression.zstdLevels.lowerBound)...\(Compression.zstdLevels.upperBound), not \(level).")
        }
    }
}

extension TopicConfig {
    /// The settings in which `self` differs from `other`, as "name is X, not Y" phrases.
    public func differences(from other: TopicConfig) -> [String] {
        var result: [String] = []
        func compare<T: Equatable>(_ name: String, _ mine: T, _ theirs: T, _ show: (T) -> String = { "\($0)" }) {
            if mine != theirs { result.append("\(name) is \(show(mine)), not \(show(theirs))") }
        }
        compare("partitionCount", partitionCount, other.partitionCount)
        compare("segmentBytes", segmentBytes, other.segmentBytes)
        compare("segmentMilliseconds", segmentMilliseconds, other.segmentMilliseconds)
        compare("indexIntervalBytes", indexIntervalBytes, other.indexIntervalBytes)
        compare("maxIndexBytes", maxIndexBytes, other.maxIndexBytes)
        compare("flush", flush, other.flush) { $0.configValue }
        compare("maxTimestampSkewMilliseconds", maxTimestampSkewMilliseconds, other.maxTimestampSkewMilliseconds)
        compare("compression", compression, other.compression) { $0.configValue }
        compare("retentionMilliseconds", retentionMilliseconds, other.retentionMilliseconds) { $0.map(String.init) ?? "unlimited" }
        compare("retentionBytes", retentionBytes, other.retentionBytes) { $0.map(String.init) ?? "unlimited" }
        compare("dedupeWindowMilliseconds", dedupeWindowMilliseconds, other.dedupeWindowMilliseconds) { $0.map(String.init) ?? "off" }
        compare("dedupeMaxMessageIDs", dedupeMaxMessageIDs, other.dedupeMaxMessageIDs)
        return result
    }
}

extension TopicConfig {
    /// What one partition's log needs of these settings (all but the partition count).
    package var logConfig: LogConfig {
        LogConfig(
            segmentBytes: segmentBytes, segmentMilliseconds: segmentMilliseconds, indexIntervalBytes: indexIntervalBytes,
            maxIndexBytes: maxIndexBytes, flush: flush, maxTimestampSkewMilliseconds: maxTimestampSkewMilliseconds,
            compression: compression, retentionMilliseconds: retentionMilliseconds, retentionBytes: retentionBytes,
            dedupeWindowMilliseconds: dedupeWindowMilliseconds, dedupeMaxMessageIDs: dedupeMaxMessageIDs)
    }
}
