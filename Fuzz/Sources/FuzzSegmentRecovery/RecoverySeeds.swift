import FuzzSupport

/// Seeds for the recovery target: real logs (plain and zstd) under each layout, cut short,
/// followed by zeros (a preallocated or torn tail), with stale indexes, and with an append that
/// carries its own time.
enum RecoverySeeds {
    static func make(_ fixture: RecoveryFixture) -> [(name: String, bytes: [UInt8])] {
        let log = fixture.prefix.bytes
        let firstBatch = LogWalker.walk(log, baseOffset: 0).batches[0]
        let appendTime = [UInt8](repeating: 0, count: 8)
        let createTime = withUnsafeBytes(of: SeedRecords.baseTimestamp.littleEndian) { Array($0) }
        return [
            ("whole-valid-log", [0x03] + appendTime + log),
            ("log-cut-inside-a-batch", [0x03] + appendTime + Array(log.dropLast(40))),
            ("valid-prefix-then-zeros", [0x05] + appendTime + [UInt8](repeating: 0, count: 96)),
            ("valid-prefix-then-half-a-batch", [0x05] + appendTime + Array(log[0..<(firstBatch.byteCount / 2)])),
            ("sealed-prefix-without-checkpoint", [0x0F] + appendTime + log),
            ("sealed-prefix-with-checkpoint", [0x1F] + appendTime + log),
            ("zstd-topic-append-with-create-time", [0x63] + createTime + log),
            ("stale-indexes", [0x83] + appendTime + log),
            ("unchecked-bytes", [0x00] + appendTime + log),
        ]
    }
}
