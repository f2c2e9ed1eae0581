import StreamStoreFormat
import StreamStoreLog
import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One process's place among the processes consuming one topic as one consumer group
/// (docs/FORMAT.md, "Consumer groups across processes"), in the folder
/// `__groups/<group>.members/<topic>/`:
///
/// - `<member id>.member`: one per live member, locked exclusively (flock) by it for as long as it
///   is a member. The kernel drops the lock when the process dies, SIGKILL included, so a file
///   nobody holds is a dead member's: whoever finds one removes it.
/// - `<partition>.lease`: locked exclusively by the member that owns the partition. Two members
///   never hold one at once, whatever their views of the membership: the lease, not the
///   assignment, is what makes "one owner at a time" hold.
///
/// Every member computes the same assignment from the same set of live members (partition `p`
/// goes to the member at `p % count` in the sorted ids), so they converge without a
/// coordinator: each gives up the leases that are no longer its own, and takes the ones that
/// are once their old owner let go. Not thread-safe: the ``GroupCoordinator`` that owns it
/// calls it under its lock.
final class GroupMembership {
    let folder: String
    private let fileSystem: FileSystem
    let logger: Logger
    private(set) var memberID: String?
    private var memberLock: FileLock?
    /// The leases held, by partition.
    private var leases: [Int: FileLock] = [:]

    /// The folders `join` makes: the groups folder, the group's members folder, `folder`.
    private let folders: [String]

    init(groupsFolder: String, group: String, topic: String, fileSystem: FileSystem, logger: Logger) {
        let membersFolder = FileNames.join(groupsFolder, group + FileNames.groupMembersSuffix)
        folder = Self.folder(groupsFolder: groupsFolder, group: group, topic: topic)
        folders = [groupsFolder, membersFolder, folder]
        self.fileSystem = fileSystem
        self.logger = logger
    }

    /// The members' folder of `topic` in consumer group `group`.
    static func folder(groupsFolder: String, group: String, topic: String) -> String {
        FileNames.join(FileNames.join(groupsFolder, group + FileNames.groupMembersSuffix), topic)
    }

    var isMember: Bool { memberID != nil }

    /// Becomes a member: a new member file, locked before it gets its final name, so a member
    /// file is never seen unlocked while its member lives.
    func join() throws(StreamStoreError) {
        guard memberID == nil else { return }
        let directory = Directory(fileSystem: fileSystem)
        for path in folders { try directory.create(path) }
        for _ in 0..<Limits.groupJoinAttempts {
            let id = "\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
            let joining = FileNames.join(folder, id + FileNames.joiningMemberSuffix)
            guard let lock = try FileLock.open(joining, create: true, fileSystem: fileSystem) else { continue }
            // Another member cleaning up may have taken it for a dead joiner's in the moment
            // between the open and the lock; then it is gone, and a new id is tried.
            guard try lock.lock(.exclusive, wait: false) else { continue }
            do throws(StreamStoreError) {
                try directory.rename(joining, to: FileNames.join(folder, id + FileNames.memberSuffix))
            } catch where error.systemErrno == ENOENT {
                continue
            }
            (memberID, memberLock) = (id, lock)
            return
        }
        throw StreamStoreError(.io(errno: EAGAIN), "Could not join consumer group members in \(folder) after \(Limits.groupJoinAttempts) attempts.", path: folder)
    }

    /// Gives up every lease and the membership. A process that dies does the same implicitly.
    func leave() {
        for lease in leases.values { lease.unlock() }
        leases.removeAll()
        guard let id = memberID else { return }
        try? Directory(fileSystem: fileSystem).remove(FileNames.join(folder, id + FileNames.memberSuffix))
        memberLock?.unlock()
        (memberID, memberLock) = (nil, nil)
    }

    /// The partitions of `partitionCount` that are this member's among the live members now.
    func share(partitionCount: Int) throws(StreamStoreError) -> [Int] {
        guard let memberID else { return [] }
        let live = try Self.liveMembers(in: folder, fileSystem: fileSystem, me: memberID)
        guard let index = live.firstIndex(of: memberID) else { return [] }
        return (0..<partitionCount).filter { $0 % live.count == index }
    }

    /// The ids of the live members in `folder`, sorted. Files of dead members (and of joiners
    /// that died before their rename) are removed on the way.
    static func liveMembers(in folder: String, fileSystem: FileSystem, me: String? = nil) throws(StreamStoreError) -> [String] {
        guard let names = fileSystem.listDirectory(folder) else {
            if errno == ENOENT { return [] }
            throw .io("list", path: folder, errno: errno)
        }
        var live: [String] = []
        for name in names {
            let path = FileNames.join(folder, name)
            if name.hasSuffix(FileNames.memberSuffix) {
                let id = String(name.dropLast(FileNames.memberSuffix.count))
                let alive = try id == me ? true : isHeld(path, fileSystem: fileSystem)
                if alive { live.append(id) }
            } else if name.hasSuffix(FileNames.joiningMemberSuffix) {
                _ = try isHeld(path, fileSystem: fileSystem)
            }
        }
        return live.sorted()
    }

    /// True when a live process holds the lock on the file at `path`; else removes the file
    /// where this process may (a dead member's file left behind changes nothing but the time
    /// the next look takes). The probe is a shared lock, so two members probing at once both see
    /// a dead file as dead.
    private static func isHeld(_ path: String, fileSystem: FileSystem) throws(StreamStoreError) -> Bool {
        guard let probe = try FileLock.open(path, create: false, fileSystem: fileSystem) else { return false }
        guard try probe.lock(.shared, wait: false) else { return true }
        try? Directory(fileSystem: fileSystem).remove(path)
        return false
    }

    // MARK: Leases

    func holds(_ partition: Int) -> Bool { leases[partition] != nil }

    /// Takes the partition's lease if no other member holds it; false when one does (or the
    /// lease file cannot be opened, which is logged).
    func tryAcquire(_ partition: Int) -> Bool {
        if leases[partition] != nil { return true }
        guard memberID != nil else { return false }
        let path = FileNames.join(folder, "\(partition)\(FileNames.leaseSuffix)")
        do throws(StreamStoreError) {
            guard let lease = try FileLock.open(path, create: true, fileSystem: fileSystem), try lease.lock(.exclusive, wait: false) else {
                return false
            }
            leases[partition] = lease
            return true
        } catch {
            logger.warning("Could not take the lease of partition \(partition) in \(folder): \(error)")
            return false
        }
    }

    /// Lets go of the partition's lease (closing its file), so another member can take it.
    func release(_ partition: Int) {
        leases.removeValue(forKey: partition)?.unlock()
    }
}

/// Calls `tick` at an interval on a shared queue until stopped: each consumer group member
/// looks at the other processes' members this often, which bounds how late it notices one
/// that joined, left or died.
final class MembershipTicker: @unchecked Sendable {
    private static let queue = DispatchQueue(label: "streamstore.group-membership")
    private let timer: any DispatchSourceTimer

    init(intervalMilliseconds: Int64, tick: @escaping @Sendable () -> Void) {
        timer = DispatchSource.makeTimerSource(queue: Self.queue)
        let interval = DispatchTimeInterval.milliseconds(Int(intervalMilliseconds))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(Int(max(1, intervalMilliseconds / 10))))
        timer.setEventHandler(handler: tick)
        timer.resume()
    }

    /// Stops the ticks; a tick under way may still finish (it finds nothing to do).
    func stop() { timer.cancel() }

    deinit { timer.cancel() }
}
