import StreamStore
import StreamStoreFuzzEntryPoints
import FuzzSupport

/// The store the index target opens for every input, what it should read back, and the checks.
///
/// A store of 48 batches in small segments (several sealed and the active one), closed
/// cleanly and held as a snapshot. Each input replaces one segment's index files, the store is
/// opened (sealed segments validate their indexes when first opened, the active one on open),
/// and every batch, every record and a set of timestamp lookups are checked against the model.
final class IndexFixture {
    struct SegmentFiles {
        var baseOffset: Int64
        var nextOffset: Int64
        var log: [UInt8]
        var offsetIndex: [UInt8]
        var timeIndex: [UInt8]
        var logName: String
    }

    static let config = TopicConfig(segmentBytes: 4096, indexIntervalBytes: 128, flush: .never)

    let seed: SeedStore
    let segments: [SegmentFiles]
    /// Batches of the whole log, as an independent reading of the segments finds them.
    let batches: [LogWalker.Batch]
    var logEnd: Int64 { Int64(seed.records.count) }

    init() {
        let scratch = ScratchFolder.make(for: "index-validation")
        do {
            seed = try SeedStore.build(at: scratch + "/store", config: Self.config, batches: SeedRecords.batches(count: 48))
        } catch {
            fatalError("cannot build the index fixture: \(error)")
        }
        let folder = SeedStore.topic + "/0/"
        var segments: [SegmentFiles] = []
        var batches: [LogWalker.Batch] = []
        for (index, base) in seed.segmentBases.enumerated() {
            let next = index + 1 < seed.segmentBases.count ? seed.segmentBases[index + 1] : Int64(seed.records.count)
            let name = { (suffix: String) in folder + SeedStore.segmentFileName(baseOffset: base, suffix: suffix) }
            let log = seed.snapshot.files[name(".log")] ?? []
            let walk = LogWalker.walk(log, baseOffset: base)
            require(walk.stop == nil && walk.nextOffset == next, "the seed store's segment \(base) does not walk cleanly")
            batches += walk.batches
            segments.append(SegmentFiles(
                baseOffset: base, nextOffset: next, log: log, offsetIndex: seed.snapshot.files[name(".index")] ?? [],
                timeIndex: seed.snapshot.files[name(".timeindex")] ?? [], logName: name(".log")))
        }
        require(segments.count >= 3, "the seed store has \(segments.count) segments; the target wants sealed ones and an active one")
        self.segments = segments
        self.batches = batches
    }

    func run(layout: IndexLayout, offsetBytes: [UInt8], timeBytes: [UInt8]) {
        let index = layout.segment % segments.count
        let segment = segments[index]
        let isActive = index == segments.count - 1
        let span = segment.nextOffset - segment.baseOffset
        let offsetIndex = layout.replaceOffsetIndex ? offsetBytes : segment.offsetIndex
        let timeIndex = layout.replaceTimeIndex ? timeBytes : segment.timeIndex
        checkValidators(offsetIndex: offsetIndex, timeIndex: timeIndex, logBytes: Int64(segment.log.count), span: span)
        // Without a log to hold them to, the validators accept indexes far larger than the
        // fixture's, large enough for lookups to search the cold half before the warm tail.
        checkValidators(offsetIndex: offsetIndex, timeIndex: timeIndex, logBytes: Int64(UInt32.max) + 1, span: nil)

        // What the store will do with these files: trust them, or rebuild them from the log.
        let replaced = layout.replaceOffsetIndex || layout.replaceTimeIndex
        let missing = layout.deleteFiles && replaced
        let offsetTrusted = !missing && FuzzEntryPoints.validateOffsetIndex(offsetIndex, logBytes: Int64(segment.log.count), segmentEntries: span) == nil
        let timeTrusted = !missing && FuzzEntryPoints.validateTimeIndex(timeIndex, segmentEntries: span) == nil
            && (isActive ? offsetIndex.isEmpty || !timeIndex.isEmpty : segment.log.isEmpty || !timeIndex.isEmpty)
        let trusted = offsetTrusted && timeTrusted
        let timeLies = trusted && timeIndex != segment.timeIndex

        seed.snapshot.restore()
        let stem = String(segment.logName.dropLast(4))
        if layout.replaceOffsetIndex { replace(seed.path + "/" + stem + ".index", with: offsetIndex, delete: layout.deleteFiles) }
        if layout.replaceTimeIndex { replace(seed.path + "/" + stem + ".timeindex", with: timeIndex, delete: layout.deleteFiles) }

        let store: Store
        do {
            store = try Store.open(at: seed.path, options: Store.Options(openSegmentFilesLimit: layout.churnOpenFiles ? 1 : 256))
        } catch {
            fatalError("Store.open failed with replaced indexes: \(error)")
        }
        let topic: Topic
        do {
            topic = try store.topic(SeedStore.topic)
            let offsets = (try topic.logStartOffset(partition: 0), try topic.logEndOffset(partition: 0))
            require(offsets == (0, logEnd), "offsets \(offsets), expected 0...\(logEnd)")
        } catch {
            fatalError("the topic cannot be read: \(error)")
        }
        // Readers check where the offset index sends them and fall back to the log, so even an
        // index that lies gives exact reads. A lying time index can only delay a lookup.
        checkBatchReads(topic)
        checkRecordReads(topic)
        checkTimestampLookups(topic, mayBeLate: timeLies)
        do {
            try store.close()
        } catch {
            fatalError("close failed: \(error)")
        }
    }

    private func replace(_ path: String, with bytes: [UInt8], delete: Bool) {
        if delete { PosixFiles.remove(path) } else { PosixFiles.write(bytes, to: path) }
    }

    /// The validators on their own: whatever they accept is searched the way lookups search it,
    /// and must agree with a linear search.
    private func checkValidators(offsetIndex: [UInt8], timeIndex: [UInt8], logBytes: Int64, span: Int64?) {
        if FuzzEntryPoints.validateOffsetIndex(offsetIndex, logBytes: logBytes, segmentEntries: span) == nil {
            let relatives = stride(from: 0, to: offsetIndex.count, by: 8).map { load32(offsetIndex, $0) }
            for target in Set(sample(relatives).flatMap { [$0 &- 1, $0, $0 &+ 1] } + [0, UInt32(clamping: span ?? 0), UInt32.max]) {
                let linear = relatives.lastIndex { $0 <= target }
                let searched = FuzzEntryPoints.searchOffsetIndex(offsetIndex, relativeOffset: target)
                require(searched == linear, "offset index search for \(target) found entry \(String(describing: searched)), a linear search \(String(describing: linear))")
            }
        }
        if FuzzEntryPoints.validateTimeIndex(timeIndex, segmentEntries: span) == nil {
            let timestamps = stride(from: 0, to: timeIndex.count, by: 12).map { Int64(bitPattern: load64(timeIndex, $0)) }
            for target in Set(sample(timestamps).flatMap { [$0 &- 1, $0, $0 &+ 1] } + [Int64.min, Int64.max]) {
                let linear = timestamps.lastIndex { $0 < target }
                let searched = FuzzEntryPoints.searchTimeIndex(timeIndex, timestamp: target)
                require(searched == linear, "time index search for \(target) found entry \(String(describing: searched)), a linear search \(String(describing: linear))")
            }
        }
    }

    /// From the first and the last offset of every batch: the batch holding it comes first.
    private func checkBatchReads(_ topic: Topic) {
        for batch in batches {
            for offset in Set([batch.baseOffset, batch.nextOffset - 1]) {
                let read: [StoredBatch]
                do {
                    read = try topic.readBatches(partition: 0, from: offset, maxBytes: 1)
                } catch {
                    fatalError("reading batches at \(offset) threw \(error)")
                }
                guard let first = read.first else { fatalError("no batch at \(offset) below the log end \(logEnd)") }
                require(first.baseOffset == batch.baseOffset && first.nextOffset == batch.nextOffset,
                    "reading at \(offset) gave the batch \(first.baseOffset)..<\(first.nextOffset), not \(batch.baseOffset)..<\(batch.nextOffset)")
            }
        }
    }

    /// The whole log, record by record in small reads: exactly the records written.
    private func checkRecordReads(_ topic: Topic) {
        do {
            let records = try SeedStore.readAll(topic, maxBytes: 512)
            require(records == seed.records, "read \(records.count) records that differ from the \(seed.records.count) written")
        } catch {
            fatalError("reading records threw \(error)")
        }
    }

    /// "First offset whose timestamp is at least T" for timestamps around the newest of every
    /// third batch (a lookup reads up to the log end, so all of them would dominate the run).
    private func checkTimestampLookups(_ topic: Topic, mayBeLate: Bool) {
        let timestamps = seed.records.map(\.timestamp)
        let sampled = stride(from: 0, to: batches.count, by: 3).map { batches[$0].maxTimestamp }
        let targets = Set(sampled.flatMap { [$0, $0 + 1] } + [timestamps.min()! - 1, timestamps.max()! + 1])
        for target in targets {
            let truth = timestamps.firstIndex { $0 >= target }.map(Int64.init) ?? logEnd
            do {
                let found = try topic.offset(partition: 0, for: .timestamp(target))
                require(found == truth || (mayBeLate && found > truth && found <= logEnd),
                    "the first offset at or after time \(target) is \(truth), the lookup said \(found)")
            } catch {
                require(mayBeLate && error.code == .corruptBatch, "the lookup of time \(target) threw \(error)")
            }
        }
    }
}

/// About 40 of the entries, the first and last two always among them, so that checking a large
/// index against a linear search stays cheap.
private func sample<T>(_ entries: [T]) -> [T] {
    guard entries.count > 40 else { return entries }
    let step = entries.count / 36
    return Array(entries.prefix(2)) + stride(from: 2, to: entries.count - 2, by: step).map { entries[$0] } + Array(entries.suffix(2))
}

private func load32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[at + $1]) }
}

private func load64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
    (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[at + $1]) }
}
