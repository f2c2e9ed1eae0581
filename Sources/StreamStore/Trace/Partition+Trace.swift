import StreamStoreFormat
import StreamStoreLog
import StreamStoreFormat
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What tracing one partition found (groups are added by the store).
struct PartitionTrace {
    var records: [TracedRecord] = []
    var statistics = TraceStatistics()
    var problems: [String] = []
}

extension Partition {
    /// Every record of this partition whose correlation id is `id` (UTF-8 bytes; `hash` is its
    /// filter hash), in offset order.
    ///
    /// Sealed segments whose correlation filter denies the id are skipped; the others are
    /// scanned batch by batch, walking the records only of batches whose bytes contain the id,
    /// and never copying a value. A sealed segment without a usable filter
    /// (missing, stale or corrupt) gets one written from that same scan, so the next trace skips
    /// it. The active segment is always scanned, up to the end readers see.
    func trace(correlationID id: [UInt8], hash: UInt64, decompressor: ZstdDecompressor) throws(StreamStoreError) -> PartitionTrace {
        let (segments, visible, logStart) = lock.withLock { (self.segments, self.visible, logStartOffset) }
        let usesFilters = context.correlationFilters.isEnabled
        var trace = PartitionTrace()
        for segment in segments where segment.baseOffset <= visible.segmentBaseOffset {
            do throws(StreamStoreError) {
                try traceSegment(segment, isActive: segment.baseOffset == visible.segmentBaseOffset, activeEnd: visible.position, logStart: logStart,
                    id: id, hash: hash, usesFilters: usesFilters, decompressor: decompressor, into: &trace)
            } catch where error.code == .offsetOutOfRange {
                // Retention deleted the segment after the snapshot: its records are no longer kept.
                continue
            }
        }
        return trace
    }

    private func traceSegment(
        _ segment: Segment, isActive: Bool, activeEnd: Int64, logStart: Int64, id: [UInt8], hash: UInt64, usesFilters: Bool,
        decompressor: ZstdDecompressor, into trace: inout PartitionTrace
    ) throws(StreamStoreError) {
        var end = activeEnd
        var rebuilding: CorrelationFilter.Binding?
        if !isActive, let binding = try segment.sealedBinding() {
            end = binding.logBytes
            if usesFilters {
                let (lookup, bytesRead) = segment.loadCorrelationFilter(binding: binding)
                trace.statistics.bytesRead += Int64(bytesRead)
                switch lookup {
                case .usable(let filter):
                    guard filter.mightContain(hash) else {
                        trace.statistics.segmentsSkippedByFilter += 1
                        return
                    }
                case .missing:
                    rebuilding = binding
                case .unusable(let reason):
                    context.logger.warning("Not using the correlation filter \(segment.correlationFilterPath): \(reason). Scanning the segment and writing a new one.")
                    rebuilding = binding
                }
                if rebuilding != nil { trace.statistics.segmentsWithoutUsableFilter += 1 }
                // A reader process writes no file of the store: the writer builds filters.
                if context.isReadOnly { rebuilding = nil }
            }
        }
        let topic = self.topic, partition = self.id
        var found: [TracedRecord] = []
        let log = try segment.openFiles().log
        let (outcome, built) = try withBytes(id) { (wanted) throws(StreamStoreError) in
            try segment.scanCorrelations(log: log, to: end, decompressor: decompressor, building: rebuilding, lookingFor: wanted) { record in
                guard record.layout.offset >= logStart, Self.same(record.id, wanted) else { return }
                found.append(TracedRecord(
                    topic: topic, partition: partition, offset: record.layout.offset, timestamp: record.layout.timestamp, key: record.key,
                    headers: record.headers, valueByteCount: record.valueByteCount))
            }
        }
        trace.records += found
        trace.statistics.segmentsScanned += 1
        trace.statistics.bytesRead += outcome.scannedBytes
        trace.problems += outcome.problems.map { "\(topic)/\(partition): \($0)" }
        guard let built else { return }
        do throws(StreamStoreError) {
            if try segment.writeCorrelationFilter(built) { trace.statistics.filtersWritten += 1 }
        } catch {
            context.logger.warning("Could not write the correlation filter \(segment.correlationFilterPath): \(error). Traces keep scanning the segment.")
        }
    }

    private static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard let left = a.baseAddress, let right = b.baseAddress else { return true }
        return memcmp(left, right, a.count) == 0
    }
}
