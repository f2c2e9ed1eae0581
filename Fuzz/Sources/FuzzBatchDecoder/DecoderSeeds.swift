import CZstdSeeds
import StreamStore
import StreamStoreFuzzEntryPoints
import FuzzSupport

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
        seeds.append(("zstd-batch-without-content-size", zstdWithoutContentSize(seeds[1].bytes)))
        for vector in ["two-records", "null-value", "idempotent-producer", "based-at-1000", "zstd-20-json"] {
            guard let bytes = RepositoryFiles.read("Tests/StreamStoreTests/Vectors/\(vector).bin") else {
                fatalError("missing test vector \(vector).bin under \(RepositoryFiles.root)")
            }
            seeds.append(("kafka-vector-\(vector)", bytes))
        }
        return seeds
    }

    /// `plain` (an uncompressed batch) with its records as one zstd frame whose header declares
    /// no content size, as producers that stream their frames write it: readers must then
    /// decompress in steps (the only path to ZstdDecompressor's growing output).
    static func zstdWithoutContentSize(_ plain: [UInt8]) -> [UInt8] {
        guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx failed") }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0)
        let records = Array(plain[61...])
        var frame = [UInt8](repeating: 0, count: ZSTD_compressBound(records.count))
        let written = frame.withUnsafeMutableBytes { output in
            records.withUnsafeBytes { input in ZSTD_compress2(context, output.baseAddress, output.count, input.baseAddress, input.count) }
        }
        guard ZSTD_isError(written) == 0 else { fatalError("zstd could not compress a seed") }
        var batch = Array(plain[0..<61]) + frame.prefix(written)
        batch[22] = batch[22] & ~0x07 | 0x04  // codec 4: zstd
        withUnsafeBytes(of: Int32(batch.count - 12).bigEndian) { length in
            for index in 0..<4 { batch[8 + index] = length[index] }
        }
        batch.withUnsafeMutableBytes { _ = FuzzEntryPoints.fixChecksums($0) }
        return batch
    }
}
