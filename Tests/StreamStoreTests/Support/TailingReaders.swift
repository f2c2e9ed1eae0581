@testable import StreamStoreLog

extension Partition {
    /// How many readers (a follow, a consumer with nothing to read) wait inside the engine for
    /// this partition's end to move. The engine signals nothing when a reader starts waiting,
    /// so a test polls this (``waitUntil(seconds:_:sourceLocation:)``); it is read through
    /// reflection because the engine keeps its waiters private.
    var tailingReaderCount: Int {
        let waiters = lock.withLock { tailWaiters }
        return (Mirror(reflecting: waiters).descendant("waiting") as? [ObjectIdentifier: Wakeup])?.count ?? 0
    }
}
