import StreamStoreFormat
/// A sealed segment's correlation filter (`.cfilter`, docs/FORMAT.md "Correlation filter"): how it
/// is read and checked before a trace trusts it, and how it is made from the segment's log.
extension Segment {
    /// What a segment's filter file turned out to be.
    package enum FilterLookup {
        case usable(CorrelationFilter)
        /// No filter file: the segment is scanned.
        case missing
        /// Stale (made for other bytes), corrupt or unreadable: never trusted; the segment is scanned.
        case unusable(reason: String)
    }

    /// What this sealed segment is now, which its filter must match; nil while its next offset
    /// is unknown (it is the active segment).
    package func sealedBinding() throws(StreamStoreError) -> CorrelationFilter.Binding? {
        guard let next = nextOffsetIfSealed else { return nil }
        return CorrelationFilter.Binding(baseOffset: baseOffset, nextOffset: next, logBytes: try sealedSize())
    }

    /// Reads and checks the filter file against `binding`; also returns the bytes read.
    package func loadCorrelationFilter(binding: CorrelationFilter.Binding) -> (lookup: FilterLookup, bytesRead: Int) {
        let bytes: [UInt8]?
        do {
            bytes = try Directory(fileSystem: context.fileSystem).readWhole(
                correlationFilterPath, limitBytes: Limits.maxCorrelationFilterBytes + CorrelationFilter.headerBytes + CorrelationFilter.checksumBytes)
        } catch {
            return (.unusable(reason: "it cannot be read (\(error.message))"), 0)
        }
        guard let bytes else { return (.missing, 0) }
        do throws(CorrelationFilter.Invalid) {
            let filter = try CorrelationFilter.decode(bytes)
            guard filter.binding == binding else {
                return (.unusable(reason: "it is stale: made for \(filter.binding), the segment has \(binding)"), bytes.count)
            }
            return (.usable(filter), bytes.count)
        } catch {
            return (.unusable(reason: "it is corrupt: \(error.reason)"), bytes.count)
        }
    }

    /// Replaces the filter file atomically (temporary file, fsync, rename, fsync of the folder),
    /// unless retention deleted the segment or another write of its filter is under way. Returns
    /// false when the filter was not written.
    @discardableResult
    package func writeCorrelationFilter(_ filter: CorrelationFilter) throws(StreamStoreError) -> Bool {
        try writingCorrelationFilter { () throws(StreamStoreError) in
            try Directory(fileSystem: context.fileSystem).writeAtomically(filter.encoded(), to: correlationFilterPath, folder: folder)
        }
    }

    /// Scans `log` (this segment's) from its start to `end` (``CorrelationScan``), calling `body` for each
    /// record with a correlation id; with `needle` (and no filter to build), only for records
    /// of batches that contain it. With `building`, a filter for that binding is filled along
    /// the way and returned, shrunk, if the scan saw every record (else nil: a filter of part of a
    /// segment would deny ids it never saw).
    package func scanCorrelations(
        log: File, to end: Int64, decompressor: ZstdDecompressor, building binding: CorrelationFilter.Binding?, lookingFor needle: UnsafeRawBufferPointer? = nil,
        shouldContinue: () -> Bool = { true }, _ body: (CorrelationScan.CorrelatedRecord) -> Void
    ) throws(StreamStoreError) -> (outcome: CorrelationScan.Outcome, filter: CorrelationFilter?) {
        var filter = binding.map { CorrelationFilter(binding: $0, expectedIDs: $0.nextOffset - $0.baseOffset) }
        let scan = CorrelationScan(log: log, endPosition: end, baseOffset: baseOffset, decompressor: decompressor)
        let outcome = try scan.run(onlyBatchesContaining: filter == nil ? needle : nil, shouldContinue: shouldContinue) { record in
            filter?.insert(CorrelationFilter.hash(record.id))
            body(record)
        }
        guard var built = filter, outcome.sawEveryRecord, end == built.binding.logBytes else { return (outcome, nil) }
        built.shrink()
        return (outcome, built)
    }
}

extension Partition {
    /// Hands the sealed segments that have no correlation filter file to the background builder:
    /// done when a writer opens the store, so filters a previous writer had no time to build (it
    /// closed right after sealing) are built by the next one. Traces in reader processes use
    /// filters but never write them.
    package func scheduleMissingCorrelationFilters() {
        guard !context.isReadOnly, context.correlationFilters.isEnabled else { return }
        let sealed = lock.withLock { segments.dropLast() }
        for segment in sealed where context.fileSystem.fileType(segment.correlationFilterPath) == nil {
            context.correlationFilters.schedule(segment)
        }
    }
}
