import StreamStoreFormat
import CoreMetrics

/// The `streamstore_consumer_lag_records` gauges of the consumer groups that committed offsets
/// of one partition through this store, or asked for its lag (``ConsumerGroup/lag(topic:)``).
///
/// A gauge holds what ``PartitionLag/lagRecords`` would say: the visible log end minus the
/// group's committed offset (or the log start, when the group never committed or retention
/// removed what it committed). It is set when the group commits, when its lag is asked for, and
/// whenever the end readers see moves, so it never lags behind appends made through this store.
/// The partition lock guards it: a commit and an append cannot interleave their updates.
struct PartitionLagGauges {
    private struct Entry {
        let group: String
        /// Nil: the group never committed this partition.
        var committedOffset: Int64?
        let gauge: any RecorderHandler
    }

    /// A handful of groups at most: a linear walk beats a dictionary here.
    private var entries: [Entry] = []

    static func lagRecords(committedOffset: Int64?, logStart: Int64, logEnd: Int64) -> Int64 {
        max(0, logEnd - max(committedOffset ?? logStart, logStart))
    }

    /// Sets `group`'s committed offset and its gauge; false when the group has no gauge yet.
    mutating func update(group: String, committedOffset: Int64?, logStart: Int64, logEnd: Int64) -> Bool {
        guard let index = entries.firstIndex(where: { $0.group == group }) else { return false }
        entries[index].committedOffset = committedOffset
        entries[index].gauge.record(Self.lagRecords(committedOffset: committedOffset, logStart: logStart, logEnd: logEnd))
        return true
    }

    mutating func add(group: String, gauge: any RecorderHandler, committedOffset: Int64?, logStart: Int64, logEnd: Int64) {
        if update(group: group, committedOffset: committedOffset, logStart: logStart, logEnd: logEnd) { return }
        entries.append(Entry(group: group, committedOffset: committedOffset, gauge: gauge))
        gauge.record(Self.lagRecords(committedOffset: committedOffset, logStart: logStart, logEnd: logEnd))
    }

    /// Sets every gauge for a new log start or end; nothing to do (and nothing paid beyond one
    /// check) while no group is tracked.
    func refresh(logStart: Int64, logEnd: Int64) {
        for entry in entries {
            entry.gauge.record(Self.lagRecords(committedOffset: entry.committedOffset, logStart: logStart, logEnd: logEnd))
        }
    }
}

extension Partition {
    /// Records that `group` has committed `committedOffset` here (nil: never committed) and
    /// sets its lag gauge. Callers hold the group's lock, so a group's updates arrive in order.
    package func trackLag(group: String, committedOffset: Int64?) {
        let tracked = lock.withLock {
            lagGauges.update(group: group, committedOffset: committedOffset, logStart: logStartOffset, logEnd: visible.offset)
        }
        if tracked { return }
        // The handle is made outside the partition lock: appends never wait for a factory.
        let gauge = context.metrics.makeLagGauge(group: group)
        lock.withLock {
            lagGauges.add(group: group, gauge: gauge, committedOffset: committedOffset, logStart: logStartOffset, logEnd: visible.offset)
        }
    }
}
