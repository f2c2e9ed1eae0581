import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Random operations on a store, checked after every step against an in-memory model: the
/// records each partition acknowledged. Appends (single and concurrent), reads at random offsets
/// with random byte budgets, reads by timestamp, retention runs (by time and by size, with the
/// settings changed at random), consumer-group commits, the write-side guards (message-id
/// de-duplication, idempotent producer retries, gaps and fencing, expected offsets), clean
/// reopens, crashes and power cuts.
///
/// A failure names the seed of its run; replay it with `STREAMSTORE_SEED` (every run's seed
/// derives from it).
@Suite(.tags(.slow), .timeLimit(.minutes(5))) struct ModelTests {
    static let steps = 300

    @Test(arguments: 0..<4)
    func randomOperationsAgreeWithTheModel(run: Int) async throws {
        let seed = TestSeed.value &+ UInt64(run) &* 0x9e37_79b9_7f4a_7c15
        let model = try StoreModel(seed: seed)
        for _ in 0..<Self.steps { try await model.step() }
        // Some seeds keep the logs under every byte budget they draw (seen: 500 small records a
        // partition): such a run ends with one retention that must delete, so every run checks it.
        try model.retainWithinSmallBudgetIfNothingWasDeleted()
        #expect(model.counts.reduce(0, +) > 0, "the run appended nothing; \(model.context)")
        #expect(model.logStart.reduce(0, +) > 0, "retention deleted nothing in the run; \(model.context)")
        #expect(!model.committed.isEmpty, "the run committed nothing; \(model.context)")
        #expect(model.duplicatesSeen > 0, "no append was de-duplicated in the run; \(model.context)")
        #expect(model.producerRetriesSeen > 0, "no idempotent retry was dropped in the run; \(model.context)")
        #expect(model.conflictsSeen > 0, "no expected-offset conflict in the run; \(model.context)")
    }
}

/// One run: a store with a two-partition `.everyAppend` topic of small segments, and what it
/// must hold.
final class StoreModel {
    /// A record as it must read back.
    struct Expected {
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [RecordHeader]
        var timestamp: Int64
    }

    static let topicName = "model"
    static let dedupeWindowMilliseconds: Int64 = 60_000
    static let config = TopicConfig(
        partitionCount: 2, segmentBytes: 4096, indexIntervalBytes: 256, flush: .everyAppend, retentionMilliseconds: nil,
        dedupeWindowMilliseconds: dedupeWindowMilliseconds)
    static let producerID: Int64 = 42

    let seed: UInt64
    var random: SplitMix64
    let fixture: StoreFixture
    let fileSystem = FaultyFileSystem()
    /// Acknowledged records per partition, in offset order from 0; those below `logStart` were
    /// deleted by retention.
    var partitions: [[Expected]] = [[], []]
    var logStart: [Int] = [0, 0]
    /// What the consumer group committed per partition (next offset), if anything.
    var committed: [Int: Int64] = [:]
    static let groupName = "model-group"
    /// Message ids appended, and where and when (the de-duplication window the store must keep).
    var messageIDs: [String: (partition: Int, offset: Int, time: Int64)] = [:]
    var issuedIDs: [String] = []
    /// The idempotent producer's state per partition: its epoch (nil before its first batch),
    /// next sequence, and last five batches.
    var producerEpoch: [Int16?] = [nil, nil]
    var producerNextSequence: [Int32] = [0, 0]
    var producerBatches: [[(first: Int32, count: Int, baseOffset: Int)]] = [[], []]
    var duplicatesSeen = 0
    var producerRetriesSeen = 0
    var conflictsSeen = 0
    var stepNumber = 0
    var recent: [String] = []
    let pool: [UInt8]

    var counts: [Int] { partitions.map(\.count) }

    /// What every failure message carries: how to replay the run and what led up to it.
    var context: String {
        "seed \(seed) (\(TestSeed.replay)), step \(stepNumber), counts \(counts), recent: \(recent.suffix(6).joined(separator: "; "))"
    }

    init(seed: UInt64) throws {
        self.seed = seed
        random = SplitMix64(seed: seed)
        pool = BatchFixtures.randomPool(&random)
        fixture = try StoreFixture()
        _ = try fixture.open(through: fileSystem).createTopic(Self.topicName, config: Self.config)
    }

    /// The topic of the store open now. Fetched anew by every operation and never kept across
    /// one, so a crash really drops the store.
    func topic() throws -> Topic {
        try #require(fixture.store, "no store is open; \(context)").topic(Self.topicName)
    }

    // MARK: Steps

    func step() async throws {
        stepNumber += 1
        fixture.clock.advance(milliseconds: Int64(random.upTo(3000)))
        switch random.upTo(119) {
        case 0..<30: try await appendOne()
        case 30..<37: try await appendConcurrently()
        case 37..<47: try await appendWithMessageIDs()
        case 47..<57: try await appendIdempotently()
        case 57..<62: try await appendExpectingOffset()
        case 62..<79: try readAtRandomOffset()
        case 79..<89: try readByTimestamp()
        case 89..<96: try enforceRetention()
        case 96..<102: try await commit()
        case 102..<107: try reopenCleanly()
        case 107..<113: try crashAndReopen()
        default: try powerCutAndReopen()
        }
        try checkOffsetsAndTail()
        try checkEverything()
        try checkReader()
    }

    /// A read-only store, kept across every reopen and crash of the writer, as a reader process
    /// keeps it, and opened again after a power cut (which ends every process). It uses the real
    /// file system: it sees the files as they are.
    private var reader: Store?

    /// After every step, the reader agrees with the model: log start and end, every record, and
    /// the group's committed offsets.
    private func checkReader() throws {
        let store = try reader ?? Store.open(at: fixture.path, options: Store.Options(clock: fixture.clock, retentionCheckMilliseconds: nil, mode: .readOnly))
        reader = store
        let topic = try store.topic(Self.topicName)
        for partition in 0..<2 {
            let count = partitions[partition].count
            #expect(try topic.logStartOffset(partition: partition) == Int64(logStart[partition]), "reader: log start of partition \(partition); \(context)")
            let readerEnd = try topic.logEndOffset(partition: partition)
            #expect(readerEnd == Int64(count), "reader: log end of partition \(partition) is \(readerEnd); \(context)")
            var offset = logStart[partition]
            var records: [StoredRecord] = []
            while offset < count {
                let more = try topic.read(partition: partition, from: Int64(offset), maxBytes: 1 + random.upTo(16_384))
                guard !more.isEmpty else { break }
                records += more
                offset += more.count
            }
            #expect(records.count == count - logStart[partition], "reader: partition \(partition) holds every acknowledged record kept; \(context)")
            expect(records, from: logStart[partition], in: partition)
        }
        #expect(try store.group(Self.groupName).committedOffsets(topic: Self.topicName) == committed, "reader: committed offsets; \(context)")
    }

    private func appendOne() async throws {
        let partition = random.upTo(1)
        let (batch, records) = try randomBatch()
        let receipt = try await topic().append(batch, partition: partition)
        note("append \(records.count) to \(partition)")
        accept(receipt, records)
    }

    private func appendConcurrently() async throws {
        var batches: [(partition: Int, batch: RecordBatch, records: [Expected])] = []
        for _ in 0..<(2 + random.upTo(2)) {
            let (batch, records) = try randomBatch()
            batches.append((random.upTo(1), batch, records))
        }
        note("append \(batches.map { "\($0.records.count) to \($0.partition)" }) at once")
        let topic = try topic()
        let receipts = try await withThrowingTaskGroup(of: (Int, AppendReceipt).self) { group in
            for (index, entry) in batches.enumerated() {
                group.addTask { (index, try await topic.append(entry.batch, partition: entry.partition)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // Concurrent appends to one partition are ordered by the offsets they got.
        for (index, receipt) in receipts.sorted(by: { $0.1.baseOffset < $1.1.baseOffset }) {
            accept(receipt, batches[index].records)
        }
    }

    /// Adds an acknowledged batch to the model, after checking its receipt.
    private func accept(_ receipt: AppendReceipt, _ records: [Expected]) {
        let partition = receipt.partition
        #expect(receipt.baseOffset == Int64(partitions[partition].count), "offsets are dense; \(context)")
        #expect(receipt.recordCount == records.count, "\(context)")
        for var record in records {
            // Append-time records take the batch's timestamp, stamped by the partition.
            if record.timestamp == Int64.min { record.timestamp = receipt.timestamp }
            partitions[partition].append(record)
        }
    }

    /// A batch of append-time records, most with a `message-id`: new ones, recent ones (some
    /// still in the window, some expired), or one repeated within the batch. The model says
    /// which the store must leave out and where their originals are.
    private func appendWithMessageIDs() async throws {
        let partition = random.upTo(1)
        let now = fixture.clock.nowMilliseconds()
        var batch = RecordBatch()
        var records: [(expected: Expected, id: String?)] = []
        for _ in 0..<(1 + random.upTo(4)) {
            var id: String?
            if !random.oneIn(5) {
                if !issuedIDs.isEmpty && random.oneIn(2) {
                    id = issuedIDs[issuedIDs.count - 1 - random.upTo(min(issuedIDs.count, 40) - 1)]
                } else {
                    id = "m-\(issuedIDs.count)"
                    issuedIDs.append(id!)
                }
            }
            let headers = id.map { [RecordHeader(.messageID, $0)] } ?? []
            let value = bytes(upTo: 60)
            try batch.append(key: nil, value: value, headers: headers)
            records.append((Expected(key: nil, value: value, headers: headers, timestamp: Int64.min), id))
        }
        // What the store must do, record by record.
        var expectedDuplicates: [(index: Int, partition: Int, offset: Int)] = []
        var written: [Expected] = []
        var firstInBatch: [String: Int] = [:]
        var writtenIndex: [Int: Int] = [:]
        for (index, record) in records.enumerated() {
            if let id = record.id, let known = messageIDs[id], known.time >= now - Self.dedupeWindowMilliseconds {
                expectedDuplicates.append((index, known.partition, known.offset))
            } else if let id = record.id, let first = firstInBatch[id] {
                expectedDuplicates.append((index, partition, partitions[partition].count + writtenIndex[first]!))
            } else {
                if let id = record.id { firstInBatch[id] = index }
                writtenIndex[index] = written.count
                written.append(record.expected)
            }
        }
        note("append \(records.count) with ids \(records.map { $0.id ?? "-" }) to \(partition), \(expectedDuplicates.count) duplicates")
        let receipt = try await topic().append(batch, partition: partition)
        #expect(receipt.duplicates.map(\.index) == expectedDuplicates.map(\.index), "duplicates found; \(context)")
        for (found, expected) in zip(receipt.duplicates, expectedDuplicates) {
            #expect(found.originalPartition == expected.partition && found.originalOffset == Int64(expected.offset), "original of record \(expected.index); \(context)")
        }
        duplicatesSeen += receipt.duplicates.count
        if written.isEmpty {
            #expect(receipt.isDuplicate && receipt.baseOffset == Int64(partitions[partition].count), "\(context)")
            return
        }
        for (id, index) in firstInBatch {
            messageIDs[id] = (partition, partitions[partition].count + writtenIndex[index]!, now)
        }
        accept(receipt, written)
    }

    /// The idempotent producer's next move in one partition: a new batch, a retry of one of its
    /// last five, a gap, a new epoch, or a batch from an epoch it left behind.
    private func appendIdempotently() async throws {
        let partition = random.upTo(1)
        var (batch, records) = try randomBatch()
        batch.producerId = Self.producerID
        let topic = try topic()
        let choice = random.upTo(99)
        if choice < 35, !producerBatches[partition].isEmpty, let epoch = producerEpoch[partition] {
            let retried = producerBatches[partition][random.upTo(producerBatches[partition].count - 1)]
            var retry = RecordBatch()
            for _ in 0..<retried.count { try retry.append(key: nil, value: [1]) }
            retry.producerId = Self.producerID
            retry.producerEpoch = epoch
            retry.baseSequence = retried.first
            note("retry idempotent batch at sequence \(retried.first) in \(partition)")
            let receipt = try await topic.append(retry, partition: partition)
            #expect(receipt.isDuplicate && receipt.duplicates.map(\.originalOffset) == (0..<retried.count).map { Int64(retried.baseOffset + $0) }, "\(context)")
            producerRetriesSeen += 1
            return
        }
        if choice < 43, let epoch = producerEpoch[partition] {
            batch.producerEpoch = epoch
            batch.baseSequence = producerNextSequence[partition] + 1 + Int32(random.upTo(3))
            note("idempotent gap at sequence \(batch.baseSequence) in \(partition)")
            await expectRefusal(.outOfOrderSequence) { _ = try await topic.append(batch, partition: partition) }
            return
        }
        if choice < 49, let epoch = producerEpoch[partition], epoch > 0 {
            batch.producerEpoch = epoch - 1
            batch.baseSequence = 0
            note("idempotent batch from fenced epoch \(epoch - 1) in \(partition)")
            await expectRefusal(.producerFenced) { _ = try await topic.append(batch, partition: partition) }
            return
        }
        let newEpoch = producerEpoch[partition] == nil || choice < 52
        batch.producerEpoch = newEpoch ? (producerEpoch[partition] ?? -1) + 1 : producerEpoch[partition]!
        batch.baseSequence = newEpoch ? 0 : producerNextSequence[partition]
        note("idempotent batch epoch \(batch.producerEpoch) sequence \(batch.baseSequence) of \(records.count) in \(partition)")
        let receipt = try await topic.append(batch, partition: partition)
        if newEpoch {
            producerEpoch[partition] = batch.producerEpoch
            producerBatches[partition] = []
        }
        producerBatches[partition].append((batch.baseSequence, records.count, partitions[partition].count))
        if producerBatches[partition].count > 5 { producerBatches[partition].removeFirst() }
        producerNextSequence[partition] = batch.baseSequence + Int32(records.count)
        accept(receipt, records)
    }

    /// An append stating the offset it expects next: the right one, or a stale or future one.
    private func appendExpectingOffset() async throws {
        let partition = random.upTo(1)
        let (batch, records) = try randomBatch()
        let count = partitions[partition].count
        let right = random.oneIn(3)
        let expected = right ? count : max(0, count + [-3, -2, -1, 1, 2][random.upTo(4)])
        note("append \(records.count) to \(partition) expecting \(expected) (end \(count))")
        let topic = try topic()
        if expected == count {
            accept(try await topic.append(batch, partition: partition, expectedNextOffset: Int64(expected)), records)
        } else {
            await expectRefusal(.offsetConflict) { _ = try await topic.append(batch, partition: partition, expectedNextOffset: Int64(expected)) }
            conflictsSeen += 1
        }
    }

    /// `body` must throw a `StreamStoreError` with `code`, and change nothing.
    private func expectRefusal(_ code: StreamStoreError.Code, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code); \(context)")
        } catch {
            #expect((error as? StreamStoreError)?.code == code, "expected \(code), got \(error); \(context)")
        }
    }

    /// After a reopen the window holds what the log still has: ids whose records retention
    /// deleted are gone.
    private func forgetDeletedMessageIDs() {
        messageIDs = messageIDs.filter { $0.value.offset >= logStart[$0.value.partition] }
    }

    private func readAtRandomOffset() throws {
        let partition = random.upTo(1)
        let count = partitions[partition].count
        let start = logStart[partition]
        let offset = random.oneIn(10) ? count + random.upTo(2) : (random.oneIn(12) && start > 0 ? random.upTo(start - 1) : start + random.upTo(count - start))
        let maxBytes = 1 + random.upTo(random.oneIn(4) ? 20_000 : 2_000)
        note("read \(partition) from \(offset) maxBytes \(maxBytes)")
        let topic = try topic()
        guard offset <= count, offset >= start else {
            let error = #expect(throws: StreamStoreError.self, "a read past the end or below the start is out of range; \(context)") {
                try topic.read(partition: partition, from: Int64(offset), maxBytes: maxBytes)
            }
            #expect(error?.code == .offsetOutOfRange, "\(String(describing: error)); \(context)")
            return
        }
        let batches = try topic.readBatches(partition: partition, from: Int64(offset), maxBytes: maxBytes)
        let records = try topic.read(partition: partition, from: Int64(offset), maxBytes: maxBytes)
        guard offset < count else {
            #expect(batches.isEmpty && records.isEmpty, "a read at the end is empty; \(context)")
            return
        }
        guard let first = batches.first else {
            Issue.record("a read before the end returned nothing; \(context)")
            return
        }
        #expect(first.baseOffset <= Int64(offset) && Int64(offset) < first.nextOffset, "the first batch holds the offset; \(context)")
        #expect(zip(batches, batches.dropFirst()).allSatisfy { $0.nextOffset == $1.baseOffset }, "batches are contiguous; \(context)")
        if batches.count > 1 {
            #expect(batches.reduce(0) { $0 + $1.byteCount } <= maxBytes, "more than one batch only within the budget; \(context)")
        }
        #expect(records.count == Int(batches.last!.nextOffset) - offset, "records are those of the batches from the offset; \(context)")
        expect(records, from: offset, in: partition)
    }

    private func readByTimestamp() throws {
        let partition = random.upTo(1)
        let records = partitions[partition]
        var target: Int64
        if records.count == logStart[partition] || random.oneIn(6) {
            target = fixture.clock.nowMilliseconds() + Int64(random.upTo(200_000)) - 100_000
        } else {
            target = records[logStart[partition] + random.upTo(records.count - 1 - logStart[partition])].timestamp + Int64(random.upTo(2)) - 1
        }
        note("offset of \(partition) at time \(target)")
        // The first record still kept whose timestamp (a running maximum) reaches the target.
        let expected = records.indices.dropFirst(logStart[partition]).first { records[$0].timestamp >= target } ?? records.count
        let found = try topic().offset(partition: partition, for: .timestamp(target))
        #expect(found == Int64(expected), "offset for timestamp \(target); \(context)")
    }

    /// Changes the retention settings at random, enforces them, and checks what went: only
    /// expired records by time, and a partition within its byte budget plus one segment.
    private func enforceRetention() throws {
        let window = random.oneIn(3) ? nil : Int64(1 + random.upTo(400_000))
        let budget = random.oneIn(3) ? nil : Int64(6_000 + random.upTo(30_000))
        try enforceRetention(window: window, budget: budget, dryRun: random.oneIn(5))
    }

    /// The last step of a run in which retention deleted nothing: a byte budget the logs exceed.
    func retainWithinSmallBudgetIfNothingWasDeleted() throws {
        guard logStart.reduce(0, +) == 0 else { return }
        note("retention at the end: bytes 6000")
        try enforceRetention(budget: 6_000)
        try checkOffsetsAndTail()
        try checkEverything()
        try checkReader()
    }

    /// Enforces these retention settings and checks what went.
    private func enforceRetention(window: Int64? = nil, budget: Int64?, dryRun: Bool = false) throws {
        let store = try #require(fixture.store)
        try store.updateTopic(Self.topicName) {
            $0.retentionMilliseconds = window
            $0.retentionBytes = budget
        }
        note("retention window \(window.map(String.init) ?? "none") bytes \(budget.map(String.init) ?? "none")\(dryRun ? " (dry run)" : "")")
        let now = fixture.clock.nowMilliseconds()
        for report in try store.enforceRetention(topic: Self.topicName, dryRun: dryRun) {
            let partition = report.partition
            #expect(report.logStartOffsetBefore == Int64(logStart[partition]), "\(context)")
            let newStart = Int(report.logStartOffset)
            #expect(newStart >= logStart[partition] && newStart <= partitions[partition].count, "the log start only moves forward, up to the end; \(context)")
            for segment in report.deleted where segment.reason == "time" {
                #expect(segment.maxTimestamp.map { $0 < now - window! } ?? false, "only expired segments go by time; \(context)")
                let records = partitions[partition][Int(segment.baseOffset)..<Int(segment.nextOffset)]
                #expect(records.allSatisfy { $0.timestamp < now - window! }, "every record of a segment deleted by time expired; \(context)")
            }
            if let budget, report.deleted.contains(where: { $0.reason == "size" }) || report.bytesBefore > budget {
                #expect(report.bytesAfter <= budget + Int64(Self.config.segmentBytes) + 2_048, "within the byte budget plus one segment; \(context)")
            }
            if !dryRun { logStart[partition] = newStart } else { #expect(try topic().logStartOffset(partition: partition) == Int64(logStart[partition]), "\(context)") }
        }
    }

    /// Commits a random next offset of a random partition for the model's consumer group.
    private func commit() async throws {
        let partition = random.upTo(1)
        let count = partitions[partition].count
        let offset = Int64(logStart[partition] + random.upTo(count - logStart[partition]))
        note("commit \(partition) at \(offset)")
        try await fixture.store!.group(Self.groupName).commit(topic: Self.topicName, offsets: [partition: offset])
        committed[partition] = offset
    }

    private func reopenCleanly() throws {
        note("close and reopen")
        try fixture.store?.close()
        fixture.store = nil
        let store = try fixture.open(through: fileSystem)
        #expect(store.openedCleanly, "\(context)")
        #expect(store.recoveries.isEmpty, "a clean reopen recovers nothing: \(store.recoveries); \(context)")
        forgetDeletedMessageIDs()
        try verify()
    }

    private func crashAndReopen() throws {
        note("crash and reopen")
        fixture.crash(through: fileSystem)
        let store = try fixture.open(through: fileSystem)
        #expect(!store.openedCleanly, "\(context)")
        forgetDeletedMessageIDs()
        try verify()
    }

    private func powerCutAndReopen() throws {
        // A power cut ends every process: the reader too starts again (its mappings would be
        // of live files the cut may have undone).
        try reader?.close()
        reader = nil
        let closeFirst = random.oneIn(3)
        if closeFirst { try fixture.store?.close() }
        fixture.crash(through: fileSystem)
        let report = try fileSystem.powerLoss(random: &random)
        note("power cut\(closeFirst ? " after a clean close" : "") (\(report))")
        let store = try fixture.open(through: fileSystem)
        #expect(store.openedCleanly == closeFirst, "\(context)")
        forgetDeletedMessageIDs()
        try verify()
    }

    // MARK: Checks

    /// After every step: offsets dense from 0 up to exactly the acknowledged count (under
    /// `.everyAppend` nothing acknowledged is lost, and nothing unacknowledged was ever
    /// written), and the last record is the model's.
    private func checkOffsetsAndTail() throws {
        let topic = try topic()
        for partition in 0..<2 {
            let count = partitions[partition].count
            #expect(try topic.logStartOffset(partition: partition) == Int64(logStart[partition]), "log start of partition \(partition); \(context)")
            #expect(try topic.logEndOffset(partition: partition) == Int64(count), "log end of partition \(partition); \(context)")
            if count > logStart[partition] {
                let records = try topic.read(partition: partition, from: Int64(count - 1), maxBytes: 1)
                expect(records, from: count - 1, in: partition)
            }
        }
        // Committed offsets (durable under .everyAppend) and lag agree with the model.
        let group = try #require(fixture.store).group(Self.groupName)
        #expect(try group.committedOffsets(topic: Self.topicName) == committed, "committed offsets; \(context)")
        for lag in try group.lag(topic: Self.topicName) {
            let next = max(Int(committed[lag.partition] ?? 0), logStart[lag.partition])
            #expect(lag.lagRecords == Int64(partitions[lag.partition].count - next), "lag of partition \(lag.partition); \(context)")
            #expect(lag.committedBelowLogStart == committed[lag.partition].map { Int($0) < logStart[lag.partition] } ?? false, "\(context)")
        }
    }

    /// Every record of both partitions, read with a random budget, equals the model's.
    private func checkEverything() throws {
        let topic = try topic()
        for partition in 0..<2 {
            let maxBytes = 1 + random.upTo(16_384)
            var offset = logStart[partition]
            var records: [StoredRecord] = []
            while offset < partitions[partition].count {
                let more = try topic.read(partition: partition, from: Int64(offset), maxBytes: maxBytes)
                guard !more.isEmpty else { break }
                records += more
                offset += more.count
            }
            #expect(records.count == partitions[partition].count - logStart[partition], "partition \(partition) holds every acknowledged record kept; \(context)")
            expect(records, from: logStart[partition], in: partition)
        }
    }

    /// Every segment of both partitions checks clean: batches, CRCs, dense offsets, indexes.
    private func verify() throws {
        let topic = try topic()
        for partition in 0..<2 {
            for report in try topic.verify(partition: partition) {
                #expect(report.problems.isEmpty, "\(report.path): \(report.problems); \(context)")
            }
        }
    }

    /// `records` are the model's from `offset` on, in order, with identical content.
    private func expect(_ records: [StoredRecord], from offset: Int, in partition: Int) {
        let expected = partitions[partition]
        for (index, record) in records.enumerated() {
            let position = offset + index
            guard position < expected.count else {
                Issue.record("offset \(record.offset) is past the \(expected.count) acknowledged; \(context)")
                return
            }
            guard record.offset == Int64(position), Self.same(record, expected[position]) else {
                Issue.record(
                    "partition \(partition) offset \(position): read \(Self.describe(record)), expected \(Self.describe(expected[position], offset: position)); \(context)")
                return
            }
        }
    }

    private static func same(_ record: StoredRecord, _ expected: Expected) -> Bool {
        record.timestamp == expected.timestamp && record.headers == expected.headers
            && BatchFixtures.sameBytes(record.key, expected.key.map { ArraySlice($0) })
            && BatchFixtures.sameBytes(record.value, expected.value.map { ArraySlice($0) })
    }

    private static func describe(_ record: StoredRecord) -> String {
        "(offset \(record.offset), time \(record.timestamp), key \(record.key?.count ?? -1) B, value \(record.value?.count ?? -1) B, \(record.headers.count) headers)"
    }

    private static func describe(_ record: Expected, offset: Int) -> String {
        "(offset \(offset), time \(record.timestamp), key \(record.key?.count ?? -1) B, value \(record.value?.count ?? -1) B, \(record.headers.count) headers)"
    }

    private func note(_ operation: String) {
        recent.append("\(stepNumber): \(operation)")
        if recent.count > 12 { recent.removeFirst() }
    }
}
