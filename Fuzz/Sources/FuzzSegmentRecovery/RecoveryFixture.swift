import StreamStore
import StreamStoreFuzzEntryPoints
import FuzzSupport

/// The store the recovery target opens for every input, and the checks it makes.
///
/// Made once per process: a store with one empty topic (plain and zstd variants) held as
/// snapshots, and a valid log prefix (plain batches and a zstd one) built through the public API.
/// Each input rewrites the partition's files from these and the fuzzed bytes.
final class RecoveryFixture {
    let path: String
    let plainStore: FolderSnapshot
    let zstdStore: FolderSnapshot
    let prefix: SeedLogs.Log
    var partitionFolder: String { path + "/" + SeedStore.topic + "/0" }

    /// Small segments and a short index interval, so appends after recovery roll and index.
    static func config(zstd: Bool) -> TopicConfig {
        TopicConfig(segmentBytes: 4096, indexIntervalBytes: 256, flush: .never, compression: zstd ? .zstd(level: 1) : .none)
    }

    init() {
        let scratch = ScratchFolder.make(for: "segment-recovery")
        path = scratch + "/store"
        do {
            prefix = try SeedLogs.validPrefix(scratch: scratch + "/prefix")
            plainStore = try Self.emptyStore(at: path, zstd: false)
            zstdStore = try Self.emptyStore(at: path, zstd: true)
        } catch {
            fatalError("cannot build the recovery fixture: \(error)")
        }
    }

    /// A store with an empty topic, without its partition's files or the clean-shutdown marker:
    /// the input supplies the partition, and the next open is unclean.
    private static func emptyStore(at path: String, zstd: Bool) throws(StreamStoreError) -> FolderSnapshot {
        var snapshot = try SeedStore.build(at: path, config: config(zstd: zstd), batches: []).snapshot
        snapshot.files = snapshot.files.filter { $0.key != "clean-shutdown" && !$0.key.hasPrefix(SeedStore.topic + "/0/") }
        return snapshot
    }

    func run(layout: RecoveryLayout, appendTimestampBits: UInt64, tail: inout [UInt8]) {
        (layout.zstdTopic ? zstdStore : plainStore).restore()
        let activeBase = layout.sealedPrefix ? prefix.nextOffset : 0
        let tailBase = layout.validPrefix ? prefix.nextOffset : 0
        if layout.fixChecksums {
            tail.withUnsafeMutableBytes { _ = FuzzEntryPoints.fixChecksums($0, denseFrom: layout.denseOffsets ? tailBase : nil) }
        }
        var active = tail
        var sealedBatches: [LogWalker.Batch] = []
        if layout.sealedPrefix {
            PosixFiles.write(prefix.bytes, to: segmentPath(0, ".log"))
            sealedBatches = LogWalker.walk(prefix.bytes, baseOffset: 0).batches
            if layout.checkpoint { PosixFiles.write(Self.checkpoint(recoveryPoint: activeBase), to: partitionFolder + "/checkpoints") }
        } else if layout.validPrefix {
            active = prefix.bytes + tail
        }
        PosixFiles.write(active, to: segmentPath(activeBase, ".log"))
        if layout.staleIndexes {
            PosixFiles.write([0, 0, 0, 1, 0, 0, 0, 90, 0, 0, 0, 9, 0, 0, 16, 0], to: segmentPath(activeBase, ".index"))
            PosixFiles.write([0, 0, 1, 0x9A, 0xCF, 0x0E, 0x1D, 0, 0, 0, 0, 3], to: segmentPath(activeBase, ".timeindex"))
        }
        let walk = LogWalker.walk(active, baseOffset: activeBase)
        let expected = sealedBatches + walk.batches

        let store: Store
        do {
            store = try Store.open(at: path)
        } catch {
            fatalError("Store.open failed on a recoverable folder: \(error)")
        }
        require(!store.openedCleanly && store.recoveries.count == 1, "expected one recovery, got \(store.recoveries)")
        let recovery = store.recoveries[0]
        require(recovery.logEndOffset == walk.nextOffset, "recovery ends the log at \(recovery.logEndOffset), the format says \(walk.nextOffset) (\(walk.stop ?? "clean end"))")
        require(recovery.truncatedBytes == Int64(active.count - walk.validBytes), "recovery cut \(recovery.truncatedBytes) bytes, the format says \(active.count - walk.validBytes)")
        require(recovery.deletedSegments.isEmpty, "recovery deleted segments \(recovery.deletedSegments)")
        let onDisk = PosixFiles.read(segmentPath(activeBase, ".log")) ?? []
        require(onDisk[...] == active[0..<walk.validBytes], "the recovered active segment is not the valid prefix of what was there (\(onDisk.count) bytes, \(walk.validBytes) valid)")

        let topic = topicOrDie(store)
        checkReads(topic, expected: expected, logEnd: walk.nextOffset)
        let appended = append(to: topic, bits: appendTimestampBits, createTime: layout.createTime, tail: tail, logEnd: walk.nextOffset)
        close(store)
        reopen(expectedEnd: walk.nextOffset + (appended == nil ? 0 : 1), appended: appended)
    }

    /// Batch by batch from the log start: dense offsets matching the format's reading, records
    /// inside their batches. Damage the CRC cannot see (a zstd frame, record fields, a codec we do
    /// not read) may only surface as `.corruptBatch`.
    private func checkReads(_ topic: Topic, expected: [LogWalker.Batch], logEnd: Int64) {
        require(offsets(topic) == (0, logEnd), "log offsets \(offsets(topic)), expected 0...\(logEnd)")
        var index = 0
        while index < expected.count {
            let wanted = expected[index]
            let batches: [StoredBatch]
            do {
                batches = try topic.readBatches(partition: 0, from: wanted.baseOffset, maxBytes: 2048)
            } catch {
                require(error.code == .corruptBatch && wanted.codec != 0, "reading at \(wanted.baseOffset) (codec \(wanted.codec)) threw \(error)")
                index += 1
                continue
            }
            require(!batches.isEmpty, "no batch at offset \(wanted.baseOffset) below the log end \(logEnd)")
            for batch in batches {
                require(index < expected.count, "a batch at \(batch.baseOffset) past the log end \(logEnd)")
                let walked = expected[index]
                require(batch.baseOffset == walked.baseOffset && batch.nextOffset == walked.nextOffset, "read batch \(batch.baseOffset)..<\(batch.nextOffset), the log holds \(walked.baseOffset)..<\(walked.nextOffset)")
                do {
                    try batch.forEachRecord { record in
                        require(record.offset >= batch.baseOffset && record.offset <= batch.lastOffset, "record \(record.offset) outside its batch")
                    }
                } catch let error as StreamStoreError {
                    require(error.code == .corruptBatch, "decoding at \(batch.baseOffset) threw \(error)")
                } catch {
                    fatalError("decoding threw \(error)")
                }
                index += 1
            }
        }
        do {
            let atEnd = try topic.readBatches(partition: 0, from: logEnd)
            require(atEnd.isEmpty, "batches at the log end")
        } catch {
            fatalError("reading at the log end threw \(error)")
        }
    }

    /// Appends one record; returns it with its offset, or nil when its timestamp was refused.
    private func append(to topic: Topic, bits: UInt64, createTime: Bool, tail: [UInt8], logEnd: Int64) -> StoredRecord? {
        let timestamp = createTime ? Int64(bitPattern: bits) : nil
        let value = Array(tail.prefix(64))
        let record = Record(key: Array("fuzz".utf8), value: value, headers: [RecordHeader(key: "h", value: nil)], timestamp: timestamp)
        let receipt: AppendReceipt
        do {
            receipt = try runBlocking { () async throws(StreamStoreError) in try await topic.append([record], partition: 0) }
        } catch {
            require(error.code == .timestampInFuture && createTime, "append after recovery threw \(error)")
            return nil
        }
        require(receipt.baseOffset == logEnd && receipt.lastOffset == logEnd, "append landed at \(receipt.baseOffset), the log end was \(logEnd)")
        let stored = StoredRecord(offset: logEnd, timestamp: receipt.timestamp, key: ArraySlice(record.key!), value: ArraySlice(value), headers: record.headers)
        do {
            let read = try topic.read(partition: 0, from: logEnd)
            require(read == [stored], "the appended record reads back as \(read)")
        } catch {
            fatalError("reading the appended record threw \(error)")
        }
        return stored
    }

    private func reopen(expectedEnd: Int64, appended: StoredRecord?) {
        let store: Store
        do {
            store = try Store.open(at: path)
        } catch {
            fatalError("reopening after a clean close failed: \(error)")
        }
        require(store.openedCleanly && store.recoveries.isEmpty, "a clean close was followed by recovery: \(store.recoveries)")
        let topic = topicOrDie(store)
        require(offsets(topic) == (0, expectedEnd), "after reopening: offsets \(offsets(topic)), expected 0...\(expectedEnd)")
        if let appended {
            do {
                let read = try topic.read(partition: 0, from: appended.offset)
                require(read == [appended], "the appended record changed across a clean reopen: \(read)")
            } catch {
                fatalError("reading after reopening threw \(error)")
            }
        }
        close(store)
    }

    private func topicOrDie(_ store: Store) -> Topic {
        do {
            return try store.topic(SeedStore.topic)
        } catch {
            fatalError("the topic is gone: \(error)")
        }
    }

    private func offsets(_ topic: Topic) -> (Int64, Int64) {
        do {
            return (try topic.logStartOffset(partition: 0), try topic.logEndOffset(partition: 0))
        } catch {
            fatalError("offsets threw \(error)")
        }
    }

    private func close(_ store: Store) {
        do {
            try store.close()
        } catch {
            fatalError("close failed: \(error)")
        }
    }

    private func segmentPath(_ base: Int64, _ suffix: String) -> String {
        partitionFolder + "/" + SeedStore.segmentFileName(baseOffset: base, suffix: suffix)
    }

    /// A `checkpoints` file (docs/FORMAT.md, "Checkpoints file"): log start 0, the recovery point,
    /// no clean-close fields.
    static func checkpoint(recoveryPoint: Int64) -> [UInt8] {
        var bytes = Array("SSCP".utf8) + [0, 1, 0, 0]
        for value in [0, recoveryPoint, -1, -1] { bytes += withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        let crc = bytes.withUnsafeBytes { FuzzEntryPoints.crc32c($0) }
        return bytes + withUnsafeBytes(of: crc.bigEndian) { Array($0) }
    }
}
