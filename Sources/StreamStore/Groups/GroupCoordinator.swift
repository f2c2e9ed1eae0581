import StreamStoreFormat
import StreamStoreLog
/// Shares one topic's partitions among the members of one consumer group in this process
/// (competing consumers): each partition is owned by at most one member at a time.
///
/// Members join and leave; each change computes a new target (partitions dealt round-robin to
/// the members in join order) and wakes every member. A member gives up a partition only when
/// it next asks for a record (so the record it is handling is finished first), and only then
/// can the partition's new member take it, starting from the group's committed offset. This is
/// what makes "never processed by two members at once" hold, and why a record handled but not
/// committed by the old member is delivered again by the new one (at-least-once).
final class GroupCoordinator: @unchecked Sendable {
    typealias MemberID = UInt64

    /// What changed for a member at a ``sync(_:)``.
    struct Change {
        var owned: [Int]
        var acquired: [Int]
        var released: [Int]
    }

    let partitionCount: Int
    private let lock = Lock()
    /// Everything below is guarded by `lock`.
    private var members: [MemberID] = []
    private var nextMember: MemberID = 1
    private var owner: [MemberID?]
    private var target: [MemberID?]
    private var waiting: [MemberID: Wakeup] = [:]

    init(partitionCount: Int) {
        self.partitionCount = partitionCount
        owner = Array(repeating: nil, count: partitionCount)
        target = Array(repeating: nil, count: partitionCount)
    }

    func join() -> MemberID {
        lock.withLock {
            let member = nextMember
            nextMember += 1
            members.append(member)
            rebalance()
            return member
        }
    }

    /// Removes a member and frees its partitions at once (it handles nothing any more).
    func leave(_ member: MemberID) {
        let own: Wakeup? = lock.withLock {
            guard let index = members.firstIndex(of: member) else { return nil }
            members.remove(at: index)
            for partition in 0..<partitionCount where owner[partition] == member { owner[partition] = nil }
            // The member's own wait ends too, so a `records` loop blocked in it sees the close.
            let own = waiting.removeValue(forKey: member)
            rebalance()
            return own
        }
        own?.signal()
    }

    var memberCount: Int { lock.withLock { members.count } }

    /// Gives up the member's partitions that now belong to another member and takes the ones
    /// that are its own and free. Called by a member between records.
    func sync(_ member: MemberID) -> Change {
        var woken: [Wakeup] = []
        let change = lock.withLock { () -> Change in
            var change = Change(owned: [], acquired: [], released: [])
            for partition in 0..<partitionCount {
                if owner[partition] == member && target[partition] != member {
                    owner[partition] = nil
                    change.released.append(partition)
                    if let next = target[partition], let wakeup = waiting[next] { woken.append(wakeup) }
                }
                if owner[partition] == nil && target[partition] == member {
                    owner[partition] = member
                    change.acquired.append(partition)
                }
                if owner[partition] == member { change.owned.append(partition) }
            }
            return change
        }
        for wakeup in woken { wakeup.signal() }
        return change
    }

    func owns(_ member: MemberID, partition: Int) -> Bool {
        lock.withLock { owner.indices.contains(partition) && owner[partition] == member }
    }

    /// The partitions the member owns now.
    func owned(by member: MemberID) -> [Int] {
        lock.withLock { (0..<partitionCount).filter { owner[$0] == member } }
    }

    /// Registers the wakeup of a member's wait, signalled when its assignment changes; nil
    /// when the wait is over. Returns false (and signals nothing) when a change is already
    /// pending for the member, so it should sync instead of waiting.
    func setWaiting(_ member: MemberID, _ wakeup: Wakeup?) -> Bool {
        lock.withLock {
            guard let wakeup else {
                waiting[member] = nil
                return true
            }
            if hasPendingChange(member) { return false }
            waiting[member] = wakeup
            return true
        }
    }

    /// Lock held.
    private func hasPendingChange(_ member: MemberID) -> Bool {
        (0..<partitionCount).contains { partition in
            (owner[partition] == member && target[partition] != member) || (owner[partition] == nil && target[partition] == member)
        }
    }

    /// Deals partitions round-robin to members in join order and wakes every waiting member
    /// (lock held).
    private func rebalance() {
        for partition in 0..<partitionCount {
            target[partition] = members.isEmpty ? nil : members[partition % members.count]
        }
        for wakeup in waiting.values { wakeup.signal() }
        waiting.removeAll()
    }
}
