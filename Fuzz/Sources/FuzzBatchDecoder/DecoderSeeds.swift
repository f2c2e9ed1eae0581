import FuzzSupport
import StreamStore

/// Seeds for the batch decoder: batches the engine wrote (plain, zstd, every record shape of
/// SeedRecords), a log of several, a control and an append-time variant, and the batches an
/// independent Kafka implementation made (Tests/StreamStoreTests/Vectors).
enum DecoderSeeds {
    static func make() throws -> [(name: String, bytes: [UInt8])] {
        let scratch = ScratchFolder.make(for: "batch-decoder-seeds")
        let log = try SeedLogs.validPrefix(scratch: scratch + "/store")
        let batches = LogWalker.walk(log.bytes, baseOffset: 0).batches
        var seeds: [(name: String, bytes: [UInt8])] = []
        for batch in batches {
            let kind = batch.codec == 4 ? "zstd" : "plain"
            seeds.append(("\(kind)-batch-at-\(batch.baseOffset)", Array(log.bytes[batch.position..<(batch.position + batch.byteCount)])))
        }
        seeds.append(("log-of-\(batches.count)-batches", log.bytes))
        var control = seeds[0].bytes
        control[22] |= 0x20  // attributes bit 5: a control batch (the target recomputes the CRC)
        seeds.append(("control-batch", control))
        var appendTime = seeds[0].bytes
        appendTime[22] |= 0x08  // attributes bit 3: LogAppendTime
        seeds.append(("append-time-batch", appendTime))
        for vector in ["two-records", "null-value", "idempotent-producer", "based-at-1000", "zstd-20-json"] {
            guard let bytes = RepositoryFiles.read("Tests/StreamStoreTests/Vectors/\(vector).bin") else {
                fatalError("missing test vector \(vector).bin under \(RepositoryFiles.root)")
            }
            seeds.append(("kafka-vector-\(vector)", bytes))
        }
        return seeds
    }
}
