import StreamStoreFormat
/// The open files of one segment: its log and both indexes.
///
/// Handed out by reference: a reader that holds one keeps its descriptor and mappings alive even
/// if the segment is closed by the open-file cache or deleted by retention meanwhile; they close
/// when the last holder lets go.
package final class SegmentFiles: @unchecked Sendable {
    package let log: File
    package let offsetIndex: OffsetIndex
    let timeIndex: TimeIndex

    init(log: File, offsetIndex: OffsetIndex, timeIndex: TimeIndex) {
        self.log = log
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
    }
}

/// Bounds how many sealed segments have their files open at once, store-wide.
///
/// Kafka keeps two mappings per segment for every segment, which is how large brokers end in
/// "Map failed"; here a sealed segment opens on first use and the least recently used are closed
/// past the limit, whatever the number of segments.
package final class SegmentFileCache: @unchecked Sendable {
    private let lock = Lock()
    private let capacity: Int
    private var clock: UInt64 = 0
    /// Weak: a segment's environment holds this cache, so a strong reference here would keep every
    /// cached segment (and its descriptor and mappings) alive after its store is dropped.
    private var open: [ObjectIdentifier: (segment: WeakSegment, lastUse: UInt64)] = [:]

    struct WeakSegment {
        weak var segment: Segment?
    }

    package init(capacity: Int) { self.capacity = max(1, capacity) }

    var openCount: Int { lock.withLock { open.count } }

    /// Records a use of `segment`, and closes the least recently used others when over capacity.
    func touch(_ segment: Segment) {
        var evicted: [Segment] = []
        lock.withLock {
            clock += 1
            open[ObjectIdentifier(segment)] = (WeakSegment(segment: segment), clock)
            while open.count > capacity {
                guard let oldest = open.min(by: { $0.value.lastUse < $1.value.lastUse }) else { break }
                open.removeValue(forKey: oldest.key)
                if let segment = oldest.value.segment.segment { evicted.append(segment) }
            }
        }
        // Outside the cache lock: closing takes the segment's lock, and a segment's lock is held
        // while it calls `touch`.
        for segment in evicted { segment.closeFiles() }
    }

    func forget(_ segment: Segment) {
        lock.withLock { _ = open.removeValue(forKey: ObjectIdentifier(segment)) }
    }
}
