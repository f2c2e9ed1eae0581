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
    /// The state the records fold into; `Codable` so snapshots can store it.
    associatedtype State: Codable & Sendable

    /// Names the projection's snapshots (a-z A-Z 0-9 . _ -).
    var name: String { get }
    /// Bump it when `State` or `apply` changes meaning: snapshots of another version are not
    /// used (the rebuild replays from the start instead). Default 1.
    var version: Int { get }
    /// The state before any record: where a full replay starts.
    func initialState() -> State
    /// Folds one record into the state. Throwing stops the rebuild with `.projectionFailed`.
    func apply(_ record: StoredRecord, to state: inout State) throws
}

extension Projection {
    /// Version 1, for projections that never changed meaning.
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

    /// A snapshot a rebuild could not use.
    public struct SkippedSnapshot: Sendable, Equatable {
        /// The snapshot's file.
        public var path: String
        /// Why it was not used, as a sentence.
        public var reason: String
    }
}

/// A rebuilt state and the offsets it includes: partition → next offset not folded in.
public struct ProjectionResult<State: Sendable>: Sendable {
    /// The state after folding every record up to the offsets below.
    public var state: State
    /// Per partition, the next offset not folded into ``state``.
    public var offsets: [Int: Int64]
    /// What the rebuild did to get there.
    public var report: RebuildReport
}
