import StreamStore
import StreamStoreFormat
import StreamStoreLog
/// `verify`'s check of one segment's correlation filter: the file must be intact and name the
/// segment, and every correlation id of the log must be in it (a filter that denies an id a
/// segment holds would hide records from traces). Fed the records `verify` decodes anyway, so
/// the check costs one hash and probe per record with an id.
struct CorrelationFilterVerification {
    private(set) var status: CorrelationFilterCheck
    private let filter: CorrelationFilter?
    private let reason: String?
    private var missedIDs = 0
    private var firstMissedOffset: Int64?

    init(status: CorrelationFilterCheck, filter: CorrelationFilter? = nil, reason: String? = nil) {
        self.status = status
        self.filter = filter
        self.reason = reason
    }

    mutating func look(at record: borrowing RecordView) {
        guard let filter, case .some(.some(let id)) = record.headerValue(forKey: HeaderName.correlationID.rawValue) else { return }
        guard !filter.mightContain(CorrelationFilter.hash(id)) else { return }
        missedIDs += 1
        if firstMissedOffset == nil { firstMissedOffset = record.offset }
        status = .bad
    }

    /// The problem to report, if any.
    func problem(path: String) -> String? {
        if let reason { return "the correlation filter \(path) \(reason); traces scan the segment instead and rewrite the filter" }
        guard missedIDs > 0, let firstMissedOffset else { return nil }
        return "the correlation filter \(path) lacks \(missedIDs) correlation id(s) of the log, the first at offset \(firstMissedOffset); delete it and the next trace rewrites it"
    }
}

extension Partition {
    /// The check of `segment`'s filter, before its records are fed to it.
    func correlationFilterCheck(of segment: Segment, isActive: Bool) throws(StreamStoreError) -> CorrelationFilterVerification {
        guard !isActive, context.correlationFilters.isEnabled, let binding = try segment.sealedBinding() else {
            return CorrelationFilterVerification(status: .notApplicable)
        }
        switch segment.loadCorrelationFilter(binding: binding).lookup {
        case .usable(let filter): return CorrelationFilterVerification(status: .ok, filter: filter)
        case .missing: return CorrelationFilterVerification(status: .missing)
        case .unusable(let reason): return CorrelationFilterVerification(status: .bad, reason: reason)
        }
    }
}
