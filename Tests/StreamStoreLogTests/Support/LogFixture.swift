import CoreMetrics
import Foundation
import Logging
import Testing

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// A temporary partition folder with small verbs for log tests: open the log as a store does
/// (``PartitionLoader``), append, close or crash, damage files, open again. No store, topic or
/// group is involved: these suites see the log layer alone.
final class LogFixture {
    /// The store folder the partition folder lies in (it holds the writer's live file).
    let root: String
    /// The partition's folder.
    let folder: String
    let fileSystem: any FileSystem
    /// The log's settings; a change applies to the next append, as a topic's does.
    let settings: Locked<LogConfig>
    let clock = FixedClock(milliseconds: 1_764_410_400_000)
    private let cache = SegmentFileCache(capacity: 16)
    /// The live file a writer signals on every publish, for reader processes (none here).
    private let live: LiveStoreFile
    /// The partition opened last, until it is closed or crashed.
    private(set) var partition: Partition?

    init(config: LogConfig = .testing(), fileSystem: any FileSystem = PosixFileSystem.shared) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-log-tests", isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        root = base.appendingPathComponent(UUID().uuidString).path
        folder = FileNames.join(root, "0")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.fileSystem = fileSystem
        settings = Locked(config)
        live = try LiveStoreFile.openForWriting(storeFolder: root, mode: 0o600, fileSystem: fileSystem)
    }

    deinit {
        partition?.abandon()
        partition = nil
        try? FileManager.default.removeItem(atPath: root)
    }

    /// What every part of the partition shares, as a store would make it.
    func context() -> PartitionContext {
        let settings = settings
        return PartitionContext(
            topic: "events", partition: 0, folder: folder, currentConfig: { settings.withLock { $0 } },
            fileSystem: fileSystem, cache: cache, correlationFilters: CorrelationFilterQueue(isEnabled: false), clock: clock,
            logger: Logger(label: "log-tests", factory: { _ in SwiftLogNoOpLogHandler() }),
            metrics: PartitionMetrics(factory: NOOPMetricsHandler.instance, topic: "events", partition: 0), access: .writer(live))
    }

    /// Opens the folder's log; `clean` says whether the store's last close was clean.
    @discardableResult
    func open(clean: Bool) throws -> OpenedLog {
        let context = context()
        let opened = try PartitionLoader.open(context: context, storeWasClean: clean)
        partition = Partition(context: context, opened: opened)
        return opened
    }

    /// The open partition, or a failed expectation.
    func opened(sourceLocation: SourceLocation = #_sourceLocation) throws -> Partition {
        try #require(partition, "open the log first", sourceLocation: sourceLocation)
    }

    /// Closes the partition cleanly: the next open may trust its checkpoint.
    func close() throws {
        try partition?.close()
        partition = nil
    }

    /// Stops the partition as a crash would: nothing more is written, synced or trimmed.
    func crash() {
        partition?.abandon()
        partition = nil
    }

    /// Appends `batches` batches of `recordsEach` records "value-N" (N counts from `first`).
    @discardableResult
    func append(batches: Int, recordsEach: Int = 10, first: Int = 0) async throws -> [AppendReceipt] {
        let partition = try opened()
        var receipts: [AppendReceipt] = []
        for batchIndex in 0..<batches {
            let start = first + batchIndex * recordsEach
            receipts.append(try await partition.append(try Self.batch(values: start..<(start + recordsEach))))
        }
        return receipts
    }

    /// Appends `batches` batches of `recordsEach` records and returns where each ended in the
    /// active segment's log (the batches must fit in one segment).
    func appendNotingEnds(batches: Int, recordsEach: Int = 10, first: Int = 0) async throws -> [Int64] {
        let partition = try opened()
        var ends: [Int64] = []
        for batchIndex in 0..<batches {
            try await append(batches: 1, recordsEach: recordsEach, first: first + batchIndex * recordsEach)
            ends.append(partition.lock.withLock { partition.activeSizeBytes })
        }
        return ends
    }

    /// A batch of records "value-N" for N in `values`, with create times 1000 + N ms.
    static func batch(values: Range<Int>) throws -> RecordBatch {
        var batch = RecordBatch()
        for value in values {
            try batch.append(key: Array("key-\(value)".utf8), value: Array("value-\(value)".utf8), timestamp: 1000 + Int64(value))
        }
        return batch
    }

    /// Every record from `offset` on, as values.
    func values(from offset: Int64 = 0) throws -> [String] {
        let partition = try opened()
        var next = offset
        var values: [String] = []
        while true {
            let records = try partition.read(from: next, maxBytes: 1 << 20)
            guard let last = records.last else { return values }
            values += records.map { $0.valueString ?? "<null>" }
            next = last.offset + 1
        }
    }

    // MARK: Files

    func path(_ name: String) -> String { FileNames.join(folder, name) }

    /// The folder's files ending in `suffix`, sorted (segment files sort by base offset).
    func files(suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(suffix) }.sorted().map(path)
    }

    func bytes(_ path: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) }

    func write(_ bytes: [UInt8], to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    func size(_ path: String) throws -> Int64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? -1
    }

    /// The `checkpoints` file as written, or nil when there is none or it does not decode.
    func checkpoint() throws -> Checkpoint? {
        guard FileManager.default.fileExists(atPath: path(FileNames.checkpoints)) else { return nil }
        return Checkpoint.decode(try bytes(path(FileNames.checkpoints)))
    }

    /// The offset index file of the segment at `baseOffset`, holding its first `entryCount`
    /// entries (a new file is empty).
    func offsetIndex(baseOffset: Int64, maxIndexBytes: Int = Limits.maxIndexBytes, entryCount: Int = 0) throws -> OffsetIndex {
        let file = try IndexFile(
            path: FileNames.offsetIndexFile(folder: folder, baseOffset: baseOffset), entryBytes: OffsetIndex.entryBytes,
            maxIndexBytes: maxIndexBytes, entryCount: entryCount, fileSystem: fileSystem)
        return OffsetIndex(file: file, baseOffset: baseOffset)
    }

    /// The time index file of the segment at `baseOffset`, holding its first `entryCount` entries.
    func timeIndex(baseOffset: Int64, maxIndexBytes: Int = Limits.maxIndexBytes, entryCount: Int = 0) throws -> TimeIndex {
        let file = try IndexFile(
            path: FileNames.timeIndexFile(folder: folder, baseOffset: baseOffset), entryBytes: TimeIndex.entryBytes,
            maxIndexBytes: maxIndexBytes, entryCount: entryCount, fileSystem: fileSystem)
        return TimeIndex(file: file, baseOffset: baseOffset)
    }

    /// A segment of this folder as the log names it, for the index builder's writes.
    func segment(baseOffset: Int64) -> Segment {
        Segment(baseOffset: baseOffset, folder: folder, environment: context().segmentEnvironment)
    }

    /// Writes `scan`'s entries as the index files of the segment at `baseOffset`.
    func writeIndexes(_ scan: IndexBuilder.Scan, baseOffset: Int64, sealed: Bool) throws {
        try IndexBuilder.write(scan, segment: segment(baseOffset: baseOffset), sealed: sealed)
    }
}

extension LogConfig {
    /// A log's settings for tests: no time-based roll, no retention, no de-duplication.
    static func testing(
        segmentBytes: Int = 1 << 30, indexIntervalBytes: Int = 4096, maxIndexBytes: Int = Limits.maxIndexBytes, flush: FlushPolicy = .never
    ) -> LogConfig {
        LogConfig(
            segmentBytes: segmentBytes, segmentMilliseconds: Int64.max, indexIntervalBytes: indexIntervalBytes, maxIndexBytes: maxIndexBytes,
            flush: flush, maxTimestampSkewMilliseconds: Int64.max, compression: .none, retentionMilliseconds: nil, retentionBytes: nil,
            dedupeWindowMilliseconds: nil, dedupeMaxMessageIDs: 0)
    }
}

/// A clock that always says the same time: log tests need append times they can predict.
struct FixedClock: StoreClock {
    let milliseconds: Int64
    func nowMilliseconds() -> Int64 { milliseconds }
}
