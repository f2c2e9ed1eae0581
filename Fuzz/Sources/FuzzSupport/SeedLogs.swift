import StreamStore

/// Real `.log` bytes written by the engine, for seeds and for the valid batches the recovery
/// target puts in front of fuzzed bytes.
public enum SeedLogs {
    public struct Log: Sendable {
        public var bytes: [UInt8]
        /// The offset after its last batch (its first is 0).
        public var nextOffset: Int64
    }

    /// The first segment of partition 0 of a store built from `batches`.
    public static func log(scratch: String, config: TopicConfig, batches: [[Record]]) throws(StreamStoreError) -> Log {
        let store = try SeedStore.build(at: scratch, config: config, batches: batches)
        let name = SeedStore.topic + "/0/" + SeedStore.segmentFileName(baseOffset: 0, suffix: ".log")
        return Log(bytes: store.snapshot.files[name] ?? [], nextOffset: Int64(store.records.count))
    }

    /// Two plain batches followed by a zstd batch, offsets 0, 1..2, then 3...7: every codec
    /// recovery and readers meet, in a log that is valid throughout.
    public static func validPrefix(scratch: String) throws(StreamStoreError) -> Log {
        let plain = try log(scratch: scratch, config: TopicConfig(flush: .never), batches: SeedRecords.batches(count: 2))
        let compressed = try log(
            scratch: scratch, config: TopicConfig(flush: .never, compression: .zstd(level: 3)),
            batches: [SeedRecords.batches(count: 5, firstOrder: 10).map { $0[0] }])
        var zstd = compressed.bytes
        // The base offset is outside the CRC: moving the batch to follow the plain ones keeps it valid.
        withUnsafeBytes(of: plain.nextOffset.bigEndian) { offset in
            for index in 0..<8 { zstd[index] = offset[index] }
        }
        return Log(bytes: plain.bytes + zstd, nextOffset: plain.nextOffset + compressed.nextOffset)
    }
}
