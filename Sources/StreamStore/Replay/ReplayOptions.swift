import StreamStoreFormat
import StreamStoreLog
/// What a reader does when the offset it wants is no longer (or not yet) in the log: below the
/// log start offset because retention removed it, or past the log end (for example a committed
/// offset from before an unclean shutdown truncated the tail).
public enum OffsetResetPolicy: Sendable, Equatable, Hashable {
    /// Continue from the log start offset: everything still kept is delivered (the default).
    case earliest
    /// Continue from the log end offset: only records appended from now on.
    case latest
    /// Throw ``/StreamStoreFormat/StreamStoreError/Code/offsetOutOfRange`` and let the caller decide.
    case fail
}

/// Where a replay ends.
public enum ReplayStop: Sendable, Equatable, Hashable {
    /// Before this offset: the replay delivers offsets below it.
    case offset(Int64)
    /// Before the first record whose timestamp is after this time (milliseconds since the epoch).
    case timestamp(Int64)
}

/// How a replay reads: where it starts and stops, whether it waits for new records, and what
/// it does when its offset is out of range.
public struct ReplayOptions: Sendable, Equatable {
    /// Where each partition's replay starts (default: the oldest record kept).
    public var from: StartPosition
    /// Where it stops (default: nowhere, so it ends at the log end, or never with `follow`).
    public var until: ReplayStop?
    /// Keep waiting for new records at the log end instead of finishing (live tailing). The
    /// sequence then ends only at `until`, when the task is cancelled, or with an error when
    /// the store closes.
    public var follow: Bool
    /// What to do when a partition's position is out of range.
    public var resetPolicy: OffsetResetPolicy
    /// How many bytes of batches one read of a partition takes at most (at least one batch
    /// is always read). Larger reads mean fewer calls; smaller ones less memory.
    public var maxBytesPerRead: Int

    /// Options for a replay; the defaults replay everything kept, once, from the log start.
    public init(
        from: StartPosition = .beginning, until: ReplayStop? = nil, follow: Bool = false,
        resetPolicy: OffsetResetPolicy = .earliest, maxBytesPerRead: Int = 1 << 20
    ) {
        self.from = from
        self.until = until
        self.follow = follow
        self.resetPolicy = resetPolicy
        self.maxBytesPerRead = maxBytesPerRead
    }
}
