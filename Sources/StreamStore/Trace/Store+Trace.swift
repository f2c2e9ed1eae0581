import StreamStoreFormat
import StreamStoreLog
import Dispatch
import Foundation

extension Store {
    /// Every record whose `correlation-id` header is `correlationID`, across topics, oldest
    /// first, and for each consumer group that consumes a record's topic whether it has
    /// processed the record (docs/FORMAT.md, "Correlation filter", says how segments are skipped).
    ///
    /// ```swift
    /// let report = try store.trace(correlationID: "order-4711")
    /// for record in report.records {
    ///     let pending = record.groups.filter { !$0.processed }.map(\.group)
    ///     print(record.topic, record.partition, record.offset, record.eventType ?? "-", pending)
    /// }
    /// ```
    ///
    /// A record's correlation id is the value of its first `correlation-id` header
    /// (``/StreamStoreFormat/HeaderName/correlationID``); ids compare byte for byte. Records are ordered by
    /// timestamp, then topic, partition and offset. A group has processed a record when its
    /// committed offset on the record's partition is past the record's offset; groups that never
    /// committed offsets for a topic are not listed for its records.
    ///
    /// Cost: each sealed segment keeps a correlation filter (a Bloom filter of its ids, see
    /// ``Options/usesCorrelationFilters``), so a trace reads one small file per sealed segment
    /// and scans only the segments that may hold the id (false matches add 0.02% to 1.3% of
    /// the other sealed segments), plus every partition's active segment, which is always
    /// scanned. Scans read batch headers and record headers in place, decompressing zstd
    /// batches, and never copy values. A sealed segment whose filter is missing, stale or
    /// corrupt is scanned, and the filter is rewritten from that scan.
    /// ``TraceReport/statistics`` says what was read.
    ///
    /// - Parameters:
    ///   - correlationID: The id to look for.
    ///   - names: The topics to search (default: every topic); an unknown one is `.unknownTopic`.
    /// - Throws: `.unknownTopic`, `.storeClosed`, or `.io` when a file cannot be read. Corrupt
    ///   batches do not throw: they are reported in ``TraceReport/problems``.
    public func trace(correlationID: String, topics names: [String]? = nil) throws(StreamStoreError) -> TraceReport {
        let clock = ContinuousClock()
        let start = clock.now
        let topics: [Topic]
        if let names {
            topics = try names.map { (name) throws(StreamStoreError) in try topic(name) }
        } else {
            topics = try withOpenState { state in state.topics.keys.sorted().map { state.topics[$0]! } }
        }
        let id = Array(correlationID.utf8)
        let hash = id.withUnsafeBytes { CorrelationFilter.hash($0) }
        var report = TraceReport(correlationID: correlationID, records: [], statistics: TraceStatistics(), problems: [])
        for found in try Self.trace(topics.flatMap(\.partitions), id: id, hash: hash) {
            report.records += found.records
            report.problems += found.problems
            report.statistics.add(found.statistics)
        }
        try addGroupProgress(to: &report.records)
        report.records.sort { ($0.timestamp, $0.topic, $0.partition, $0.offset) < ($1.timestamp, $1.topic, $1.partition, $1.offset) }
        report.statistics.elapsed = start.duration(to: clock.now)
        return report
    }

    /// Traces `partitions` on up to one thread per core (each partition's scan is independent:
    /// its own segments, its own filter writes), and returns the results in partition order.
    private static func trace(_ partitions: [Partition], id: [UInt8], hash: UInt64) throws(StreamStoreError) -> [PartitionTrace] {
        let next = Locked(0)
        let results = Locked([PartitionTrace](repeating: PartitionTrace(), count: partitions.count))
        let failure = Locked<StreamStoreError?>(nil)
        let workers = min(partitions.count, max(1, ProcessInfo.processInfo.activeProcessorCount))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let decompressor = ZstdDecompressor()
            while true {
                let index = next.withLock { next in
                    defer { next += 1 }
                    return next
                }
                guard index < partitions.count, failure.withLock({ $0 == nil }) else { return }
                do throws(StreamStoreError) {
                    let found = try partitions[index].trace(correlationID: id, hash: hash, decompressor: decompressor)
                    results.withLock { $0[index] = found }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0 }
    }

    /// Adds, to each record, the progress of every group that committed offsets for its topic.
    private func addGroupProgress(to records: inout [TracedRecord]) throws(StreamStoreError) {
        let topics = Set(records.map(\.topic))
        guard !topics.isEmpty else { return }
        var consumers: [String: [(group: String, committed: [Int: Int64])]] = [:]
        for name in try groupNames() {
            let group = try self.group(name)
            for topic in try group.topics() where topics.contains(topic) {
                consumers[topic, default: []].append((name, try group.committedOffsets(topic: topic)))
            }
        }
        for index in records.indices {
            let record = records[index]
            records[index].groups = (consumers[record.topic] ?? []).map { consumer in
                let committed = consumer.committed[record.partition]
                return GroupProgress(group: consumer.group, committedOffset: committed, processed: committed.map { $0 > record.offset } ?? false)
            }
        }
    }
}

extension TraceStatistics {
    mutating func add(_ other: TraceStatistics) {
        segmentsScanned += other.segmentsScanned
        segmentsSkippedByFilter += other.segmentsSkippedByFilter
        segmentsWithoutUsableFilter += other.segmentsWithoutUsableFilter
        filtersWritten += other.filtersWritten
        bytesRead += other.bytesRead
    }
}
