import StreamStoreFormat
/// The message ids a topic appended within its de-duplication window, and where each went
/// (docs/FORMAT.md, "The de-duplication window"; the topic's `dedupeWindowMilliseconds`).
///
/// Ids are kept in append order, so the oldest expire first. Memory is bounded by
/// ``TopicConfig/dedupeMaxMessageIDs``, not by rate times window: at the bound the oldest id is
/// forgotten early (``evictedEarly`` counts them), so a retry of a message that old would be
/// appended again. That keeps the at-least-once contract (consumers must stay idempotent) and
/// never refuses an append.
///
/// Not thread-safe by itself: the topic holds it behind a lock across the whole check, write and
/// insert, so two appends of the same id to different partitions cannot both pass.
package struct DedupeWindow {
    package struct Entry {
        package var partition: Int
        package var offset: Int64
        /// When it was appended (ms since the epoch).
        var timestamp: Int64
    }

    private var entries: [MessageID: Entry] = [:]
    /// Ids in append order; `order[head...]` are live, the prefix is spent and compacted away.
    private var order: [MessageID] = []
    private var head = 0
    var windowMilliseconds: Int64
    var capacity: Int
    /// Ids forgotten before their window ended because the window was full.
    private(set) var evictedEarly: Int = 0

    package init(windowMilliseconds: Int64, capacity: Int) {
        self.windowMilliseconds = windowMilliseconds
        self.capacity = capacity
    }

    /// The window of a topic without de-duplication: it holds nothing and checks nothing.
    package static var inactive: DedupeWindow { DedupeWindow(windowMilliseconds: 0, capacity: 0) }

    package var isActive: Bool { capacity > 0 }

    package var count: Int { entries.count }

    /// Where `id` was appended, if within the window.
    package func lookup(_ id: MessageID) -> Entry? { entries[id] }

    /// Forgets ids older than the window as of `now`.
    package mutating func expire(now: Int64) {
        let (cutoff, overflow) = now.subtractingReportingOverflow(windowMilliseconds)
        guard !overflow else { return }
        while head < order.count, let entry = entries[order[head]], entry.timestamp < cutoff {
            entries[order[head]] = nil
            head += 1
        }
        compact()
    }

    /// Remembers that `id` was appended at `offset` of `partition` at `timestamp`. Ids already
    /// present keep their first offset.
    package mutating func insert(_ id: MessageID, partition: Int, offset: Int64, timestamp: Int64) {
        // One probe of the table for the usual case (a new id), not a look-up and then a store.
        if let first = entries.updateValue(Entry(partition: partition, offset: offset, timestamp: timestamp), forKey: id) {
            entries[id] = first
            return
        }
        while entries.count > capacity, head < order.count {
            entries.removeValue(forKey: order[head])
            head += 1
            evictedEarly += 1
        }
        order.append(id)
        compact()
    }

    /// Forgets the ids that point at `partition` from `offset` on: their append was not
    /// acknowledged (its fsync failed), so a retry must be written.
    package mutating func forget(partition: Int, fromOffset offset: Int64) {
        entries = entries.filter { !($0.value.partition == partition && $0.value.offset >= offset) }
        order = order[head...].filter { entries[$0] != nil }
        head = 0
    }

    /// Drops the spent prefix of `order` once it is most of the array, so the array stays within
    /// twice the live ids and each id is moved O(1) times on average.
    private mutating func compact() {
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
