import StreamStoreFormat
import StreamStoreLog
/// State rebuilt from a topic by folding its records, with snapshots so a restart replays only
/// the tail (docs/FORMAT.md, "Projection snapshots").
///
/// ```swift
/// struct TotalsPerCustomer: Projection {
///     let name = "totals-per-customer"
///     func initialState() -> [String: Int] { [:] }
///     func apply(_ record: StoredRecord, to totals: inout [String: Int]) throws {
///         let order = try JSONDecoder().decode(Order.self, from: Data(record.value ?? []))
///         totals[order.customer, default: 0] += order.amountCents
///     }
/// }
/// let result = try await store.rebuild(TotalsPerCustomer(), from: "orders")
/// ```
/// `apply` must be deterministic: the state after a snapshot plus the tail must equal the
/// state of a full replay. Records arrive per partition in offset order; partitions
/// interleave, so a fold whose result depends on the order across partitions is not one.
public protocol Projection: Sendable {
    associatedtype State: Codable & Sendable

    /// Names the projection's snapshots (a-z A-Z 0-9 . _ -).
    var name: String { get }
    /// Bump it when `State` or `apply` changes meaning: snapshots of another version are not
    /// used (the rebuild replays from the start instead). Default 1.
    var version: Int { get }
    func initialState() -> State
    func apply(_ record: StoredRecord, to state: inout State) throws
}

extension Projection {
    public var version: Int { 1 }
}

/// What a rebuild did.
public struct RebuildReport: Sendable, Equatable {
    /// The snapshot the rebuild started from (its sequence number), or nil for a full replay.
    public var snapshotSequence: Int64?
    /// Snapshots that were skipped, newest first, each with why (corrupt, other version...).
    public var skippedSnapshots: [SkippedSnapshot]
    /// Records folded after the snapshot (or from the start).
    public var replayedRecords: Int
    /// The snapshot written at the end of the rebuild, if one was.
    public var savedSnapshotSequence: Int64?

    public struct SkippedSnapshot: Sendable, Equatable {
        public var path: String
        public var reason: String
    }
}

/// A rebuilt state and the offsets it includes: partition → next offset not folded in.
public struct ProjectionResult<State: Sendable>: Sendable {
    public var state: State
    public var offsets: [Int: Int64]
    public var report: RebuildReport
}
