import StreamStoreFormat
import StreamStoreLog
/// Shares one topic's partitions among the members of one consumer group (competing
/// consumers): each partition is owned by at most one member at a time, in this process and
/// across processes.
///
/// Across processes, this coordinator is one member of the group (its ``GroupMembership``): it
/// gets a share of the partitions, decided by the set of live processes, and holds a lease (a
/// flock) on each partition one of its members owns. In this process, members join and leave;
/// each change computes a new target (the share dealt round-robin to the members in join order)
/// and wakes every member. A member gives up a partition only when it next asks for a record (so
/// the record it is handling is finished first), and only then can the partition's new member
/// take it, starting from the group's committed offset; a partition leaving the process has its
/// lease released right then, so another process can take it. This is what makes "never
/// processed by two members at once" hold, and why a record handled but not committed by the
/// old member is delivered again by the new one (at-least-once).
final class GroupCoordinator: @unchecked Sendable {
    typealias MemberID = UInt64

    /// What changed for a member at a ``sync(_:)``.
    struct Change {
        var owned: [Int]
        var acquired: [Int]
        var released: [Int]
    }

    /// Told, with the coordinator's lock held, when a member starts owning a partition (after its
    /// lease is taken) and when it stops (before the lease is released).
    typealias OwnershipObserver = @Sendable (_ partition: Int, _ owned: Bool) -> Void

    let partitionCount: Int
    private let lock = Lock()
    /// Everything below is guarded by `lock`.
    private let membership: GroupMembership?
    private var ticker: MembershipTicker?
    private var members: [MemberID] = []
    private var nextMember: MemberID = 1
    private var owner: [MemberID?]
    private var target: [MemberID?]
    private var waiting: [MemberID: Wakeup] = [:]
    private var observers: [MemberID: OwnershipObserver] = [:]
    /// The partitions this process deals to its members: all of them without a membership, else
    /// its share among the live processes.
    private var share: [Int]
    private var isShutDown = false

    /// A coordinator of this process only (`membership` nil), or one member among processes.
    init(partitionCount: Int, membership: GroupMembership? = nil) {
        self.partitionCount = partitionCount
        self.membership = membership
        owner = Array(repeating: nil, count: partitionCount)
        target = Array(repeating: nil, count: partitionCount)
        share = membership == nil ? Array(0..<partitionCount) : []
    }

    /// A coordinator dropped with members still in (its store dropped without a close) leaves
    /// the group as a dead process would, only sooner.
    deinit {
        ticker?.stop()
        membership?.leave()
    }

    /// Adds a member; the first one makes this process a member of the group across processes.
    func join() throws(StreamStoreError) -> MemberID {
        try lock.withLock { () throws(StreamStoreError) -> MemberID in
            guard !isShutDown else { throw StreamStoreError(.storeClosed, "The store is closed.") }
            if members.isEmpty, let membership {
                try membership.join()
                do throws(StreamStoreError) {
                    share = try membership.share(partitionCount: partitionCount)
                } catch {
                    membership.leave()
                    throw error
                }
                ticker = MembershipTicker(intervalMilliseconds: Limits.groupMembershipCheckMilliseconds) { [weak self] in
                    self?.followOtherProcesses()
                }
            }
            let member = nextMember
            nextMember += 1
            members.append(member)
            rebalance()
            return member
        }
    }

    /// Removes a member and frees its partitions at once (it handles nothing any more). The last
    /// one leaving gives up the process's membership and leases.
    func leave(_ member: MemberID) {
        let own: Wakeup? = lock.withLock {
            guard let index = members.firstIndex(of: member) else { return nil }
            members.remove(at: index)
            for partition in 0..<partitionCount where owner[partition] == member { setOwner(nil, of: partition) }
            observers[member] = nil
            // The member's own wait ends too, so a `records` loop blocked in it sees the close.
            let own = waiting.removeValue(forKey: member)
            if members.isEmpty { leaveOtherProcesses() }
            rebalance()
            return own
        }
        own?.signal()
    }

    /// At store close: every member loses its partitions and the process leaves the group; the
    /// members' `records` end.
    func shutDown() {
        let woken: [Wakeup] = lock.withLock {
            isShutDown = true
            for partition in 0..<partitionCount where owner[partition] != nil { setOwner(nil, of: partition) }
            members.removeAll()
            observers.removeAll()
            leaveOtherProcesses()
            rebalance()
            defer { waiting.removeAll() }
            return Array(waiting.values)
        }
        for wakeup in woken { wakeup.signal() }
    }

    var memberCount: Int { lock.withLock { members.count } }

    var isClosed: Bool { lock.withLock { isShutDown } }

    /// Tells `observer` of the member's ownership changes from now on.
    func observe(_ member: MemberID, _ observer: @escaping OwnershipObserver) {
        lock.withLock {
            guard members.contains(member) else { return }
            observers[member] = observer
            for partition in 0..<partitionCount where owner[partition] == member { observer(partition, true) }
        }
    }

    /// Gives up the member's partitions that now belong to another member and takes the ones
    /// that are its own and free (and, across processes, whose lease it holds or can take now).
    /// Called by a member between records.
    func sync(_ member: MemberID) -> Change {
        var woken: [Wakeup] = []
        let change = lock.withLock { () -> Change in
            var change = Change(owned: [], acquired: [], released: [])
            for partition in 0..<partitionCount {
                if owner[partition] == member && target[partition] != member {
                    setOwner(nil, of: partition)
                    change.released.append(partition)
                    if let next = target[partition] {
                        if let wakeup = waiting[next] { woken.append(wakeup) }
                    } else {
                        membership?.release(partition)
                    }
                }
                if owner[partition] == nil && target[partition] == member && (membership?.tryAcquire(partition) ?? true) {
                    setOwner(member, of: partition)
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

    /// Runs `body` if the member owns `partition`, with the ownership held still: the partition
    /// cannot move (nor its lease go to another process) until `body` returns. False when the
    /// member does not own it.
    func whileOwning(_ member: MemberID, partition: Int, _ body: () throws(StreamStoreError) -> Void) throws(StreamStoreError) -> Bool {
        try lock.withLock { () throws(StreamStoreError) -> Bool in
            guard owner.indices.contains(partition), owner[partition] == member else { return false }
            try body()
            return true
        }
    }

    /// Runs `body` with the partitions of `partitions` the member owns, while it holds them
    /// all; with `requireAll`, runs it only when it owns every one. Returns those it does not own.
    func whileOwning(
        _ member: MemberID, partitions: [Int], requireAll: Bool, _ body: (Set<Int>) throws(StreamStoreError) -> Void
    ) throws(StreamStoreError) -> [Int] {
        try lock.withLock { () throws(StreamStoreError) -> [Int] in
            let owned = Set(partitions.filter { owner.indices.contains($0) && owner[$0] == member })
            let notOwned = partitions.filter { !owned.contains($0) }
            if owned.isEmpty || (requireAll && !notOwned.isEmpty) { return notOwned }
            try body(owned)
            return notOwned
        }
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
            if isShutDown || hasPendingChange(member) { return false }
            waiting[member] = wakeup
            return true
        }
    }

    // MARK: Lock held

    private func setOwner(_ member: MemberID?, of partition: Int) {
        if let previous = owner[partition] { observers[previous]?(partition, false) }
        owner[partition] = member
        if let member { observers[member]?(partition, true) }
    }

    /// A partition to give up, or one to take whose lease this process holds (one whose lease
    /// another process still holds is taken when a membership check finds it free).
    private func hasPendingChange(_ member: MemberID) -> Bool {
        (0..<partitionCount).contains { partition in
            (owner[partition] == member && target[partition] != member)
                || (owner[partition] == nil && target[partition] == member && (membership?.holds(partition) ?? true))
        }
    }

    /// Deals the process's share round-robin to members in join order, lets go of leases no
    /// member here owns or is meant to, tries to take the leases of the share, and wakes every
    /// waiting member.
    private func rebalance() {
        for partition in 0..<partitionCount { target[partition] = nil }
        if !members.isEmpty {
            for (index, partition) in share.enumerated() { target[partition] = members[index % members.count] }
        }
        if let membership {
            for partition in 0..<partitionCount where target[partition] == nil && owner[partition] == nil { membership.release(partition) }
            for partition in share where owner[partition] == nil { _ = membership.tryAcquire(partition) }
        }
        for wakeup in waiting.values { wakeup.signal() }
        waiting.removeAll()
    }

    private func leaveOtherProcesses() {
        ticker?.stop()
        ticker = nil
        membership?.leave()
        if membership != nil { share = [] }
    }

    /// A membership check: takes the share the live processes now give this one and, when it
    /// changed or a lease of it became free, wakes the members to take what is theirs.
    private func followOtherProcesses() {
        lock.withLock {
            guard let membership, membership.isMember, !members.isEmpty else { return }
            let newShare: [Int]
            do throws(StreamStoreError) {
                newShare = try membership.share(partitionCount: partitionCount)
            } catch {
                membership.logger.warning("Could not look at the other members in \(membership.folder): \(error)")
                return
            }
            if newShare != share {
                share = newShare
                rebalance()
                return
            }
            let free = share.filter { owner[$0] == nil && !membership.holds($0) }
            guard !free.isEmpty else { return }
            var taken = false
            for partition in free where membership.tryAcquire(partition) { taken = true }
            if taken { rebalance() }
        }
    }
}
