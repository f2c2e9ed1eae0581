import StreamStoreFormat
import StreamStoreLog
/// A named consumer group: the offsets it committed per topic and partition, its lag, and the
/// members consuming in this process. From ``Store/group(_:createIfMissing:)``.
///
/// A committed offset is the *next* offset to process (Kafka's convention): commit
/// `record.offset + 1` after handling `record`. Commits are atomic (a crash leaves the previous
/// commit or the new one) and as durable as the topic's ``/StreamStoreLog/FlushPolicy``: fsynced before
/// returning under `.everyAppend`, at most one interval later under `.interval`, at close under
/// `.never`.
public final class ConsumerGroup: Sendable {
    /// The group's name, which names its offset file.
    public let name: String
    /// The store's topics, held weakly: a group never keeps its store alive.
    private let directory: WeakTopicDirectory
    private let state: Locked<State>
    private let folder: String
    private let path: String

    private struct State {
        var log: GroupOffsetLog?
        var coordinators: [String: GroupCoordinator] = [:]
        var lastSyncMilliseconds: Int64 = 0
        var isClosed = false
    }

    init(name: String, directory: any TopicDirectory, folder: String) {
        self.name = name
        self.directory = WeakTopicDirectory(directory)
        self.folder = folder
        path = FileNames.join(folder, name + FileNames.groupOffsetsSuffix)
        state = Locked(State())
    }

    /// True once the group has a file on disk (it committed at least once).
    var exists: Bool { Directory(fileSystem: (directory.current?.options.fileSystem) ?? PosixFileSystem.shared).exists(path) }

    /// The store's topics while it is open; `.storeClosed` once it is closed or dropped.
    func liveStore() throws(StreamStoreError) -> any TopicDirectory {
        try directory.open()
    }

    /// The offset log, opened on first use (lock held).
    private func log(_ state: inout State, store: any TopicDirectory) throws(StreamStoreError) -> GroupOffsetLog {
        guard !state.isClosed else { throw StreamStoreError(.storeClosed, "The store is closed.") }
        if let log = state.log { return log }
        let directory = Directory(fileSystem: store.options.fileSystem)
        if !directory.exists(folder) {
            try directory.create(folder)
            try directory.sync(store.path)
        }
        let (name, path, logger) = (name, path, store.options.logger)
        let log = try GroupOffsetLog(
            path: path, lockPath: FileNames.join(folder, name + FileNames.groupLockSuffix), folder: folder, fileSystem: store.options.fileSystem,
            onTruncate: { logger.warning("Group \(name): cut \($0) bytes of a torn commit off \(path); the commit before it stands.") },
            onCompactionFailure: { logger.warning("Group \(name): could not compact \(path) (the commit stands; tried again later): \($0)") })
        state.log = log
        return log
    }

    // MARK: Committed offsets

    /// The committed offsets of `topic`, partition → next offset to process. Partitions the
    /// group never committed are absent.
    public func committedOffsets(topic: String) throws(StreamStoreError) -> [Int: Int64] {
        let store = try liveStore()
        guard exists || state.withLock({ $0.log != nil }) else { return [:] }
        return try state.withLock { (state) throws(StreamStoreError) -> [Int: Int64] in
            let log = try log(&state, store: store)
            var result: [Int: Int64] = [:]
            for (key, committed) in try log.read() where key.topic == topic { result[key.partition] = committed.offset }
            return result
        }
    }

    /// Topics the group has committed offsets for, sorted.
    public func topics() throws(StreamStoreError) -> [String] {
        let store = try liveStore()
        guard exists || state.withLock({ $0.log != nil }) else { return [] }
        return try state.withLock { (state) throws(StreamStoreError) -> [String] in
            Set(try log(&state, store: store).read().keys.map(\.topic)).sorted()
        }
    }

    /// Commits next-offsets for partitions of `topic` in one atomic step.
    ///
    /// Offsets must lie within 0...log end offset of their partition (`.offsetOutOfRange`).
    public func commit(topic topicName: String, offsets: [Int: Int64]) async throws(StreamStoreError) {
        try commitNow(topic: topicName, offsets: offsets)
    }

    /// ``commit(topic:offsets:)`` without suspending, for a member committing while it holds its
    /// partition still (``GroupCoordinator/whileOwning(_:partition:_:)``).
    func commitNow(topic topicName: String, offsets: [Int: Int64]) throws(StreamStoreError) {
        let store = try liveStore()
        let topic = try store.topic(topicName)
        var entries: [(GroupOffsetLog.Key, Int64)] = []
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            let end = try topic.logEndOffset(partition: partition)
            guard offset >= 0, offset <= end else {
                throw StreamStoreError(
                    .offsetOutOfRange, "Cannot commit offset \(offset) for \(quoted(topicName))[\(partition)]: it must lie within 0...\(end) (the log end offset).",
                    topic: topicName, partition: partition, offset: offset)
            }
            entries.append((GroupOffsetLog.Key(topic: topicName, partition: partition), offset))
        }
        let now = store.options.clock.nowMilliseconds()
        try state.withLock { (state) throws(StreamStoreError) in
            let log = try log(&state, store: store)
            let sync: Bool
            switch topic.config.flush {
            case .everyAppend: sync = true
            case .interval(let milliseconds): sync = now - state.lastSyncMilliseconds >= milliseconds
            case .never: sync = false
            }
            try log.commit(entries, nowMilliseconds: now, sync: sync)
            if sync { state.lastSyncMilliseconds = now }
            for (key, offset) in entries { topic.partitions[key.partition].trackLag(group: name, committedOffset: offset) }
        }
    }

    /// Moves the group's committed offsets of `topic` (all partitions, or `partitions`) to the
    /// beginning, the end, an offset or a time. Refused with `.groupActive` while members of
    /// this group consume the topic in this process.
    public func reset(topic topicName: String, to position: StartPosition, partitions: [Int]? = nil) async throws(StreamStoreError) {
        let store = try liveStore()
        let topic = try store.topic(topicName)
        if let coordinator = state.withLock({ $0.coordinators[topicName] }), coordinator.memberCount > 0 {
            throw StreamStoreError(
                .groupActive, "Group \(quoted(name)) has \(coordinator.memberCount) active consumer(s) of \(quoted(topicName)); stop them before resetting its offsets.",
                topic: topicName)
        }
        let elsewhere = try GroupMembership.liveMembers(
            in: GroupMembership.folder(groupsFolder: folder, group: name, topic: topicName), fileSystem: store.options.fileSystem)
        if !elsewhere.isEmpty {
            throw StreamStoreError(
                .groupActive, "Group \(name) has \(elsewhere.count) active member(s) of \(topicName) in other processes; stop them before resetting its offsets.",
                topic: topicName)
        }
        var offsets: [Int: Int64] = [:]
        for partition in partitions ?? Array(0..<topic.partitionCount) {
            let (logStart, logEnd) = try topic.partition(partition).offsets
            // A reset to an offset holds it within the log, where a read from it would fail.
            let wanted = if case .offset(let offset) = position { offset } else { try topic.offset(partition: partition, for: position) }
            offsets[partition] = min(max(wanted, logStart), logEnd)
        }
        try await commit(topic: topicName, offsets: offsets)
        try state.withLock { (state) throws(StreamStoreError) in try log(&state, store: store).sync() }
    }

    // MARK: Lag

    /// The group's lag on every partition of `topic`.
    public func lag(topic topicName: String) throws(StreamStoreError) -> [PartitionLag] {
        let store = try liveStore()
        let topic = try store.topic(topicName)
        let committed: [Int: GroupOffsetLog.Committed] = try {
            () throws(StreamStoreError) -> [Int: GroupOffsetLog.Committed] in
            let known = exists
            return try state.withLock { (state) throws(StreamStoreError) -> [Int: GroupOffsetLog.Committed] in
                var result: [Int: GroupOffsetLog.Committed] = [:]
                if known || state.log != nil {
                    for (key, value) in try log(&state, store: store).read() where key.topic == topicName { result[key.partition] = value }
                }
                // Under the group's lock, as commits set them: a commit made meanwhile is never
                // overwritten by the older offset read here.
                for partition in topic.partitions { partition.trackLag(group: name, committedOffset: result[partition.id]?.offset) }
                return result
            }
        }()
        let now = store.options.clock.nowMilliseconds()
        var result: [PartitionLag] = []
        for partition in 0..<topic.partitionCount {
            let (logStart, logEnd) = try topic.partition(partition).offsets
            let mine = committed[partition]
            let next = max(mine?.offset ?? logStart, logStart)
            var ageMilliseconds: Int64 = 0
            if next < logEnd, let oldest = try topic.read(partition: partition, from: next, maxBytes: 1).first {
                ageMilliseconds = max(0, now - oldest.timestamp)
            }
            result.append(PartitionLag(
                topic: topicName, partition: partition, committedOffset: mine?.offset, committedMilliseconds: mine?.committedMilliseconds,
                logStartOffset: logStart, logEndOffset: logEnd, lagRecords: max(0, logEnd - next), lagMilliseconds: ageMilliseconds,
                committedBelowLogStart: (mine?.offset ?? logStart) < logStart))
        }
        return result
    }

    /// The group's lag on every topic it committed offsets for.
    public func lag() throws(StreamStoreError) -> [PartitionLag] {
        let store = try liveStore()
        var result: [PartitionLag] = []
        let known = Set(try store.allTopics().map(\.name))
        for topic in try topics() where known.contains(topic) { result += try lag(topic: topic) }
        return result
    }

    // MARK: Members

    /// The coordinator of this group's members of `topic`, one member of the group across
    /// processes (``GroupMembership``).
    func coordinator(for topic: Topic) throws(StreamStoreError) -> GroupCoordinator {
        let store = try liveStore()
        return try state.withLock { (state) throws(StreamStoreError) -> GroupCoordinator in
            guard !state.isClosed else { throw StreamStoreError(.storeClosed, "The store is closed.") }
            if let existing = state.coordinators[topic.name] { return existing }
            let membership = GroupMembership(
                groupsFolder: folder, group: name, topic: topic.name, fileSystem: store.options.fileSystem, logger: store.options.logger)
            let coordinator = GroupCoordinator(partitionCount: topic.partitionCount, membership: membership)
            state.coordinators[topic.name] = coordinator
            return coordinator
        }
    }

    /// Makes every commit durable and closes the file, and takes this process's members out of
    /// the group (at store close).
    func close() throws(StreamStoreError) {
        let coordinators = try state.withLock { (state) throws(StreamStoreError) -> [GroupCoordinator] in
            guard !state.isClosed else { return [] }
            state.isClosed = true
            defer { state.log = nil }
            try state.log?.sync()
            return Array(state.coordinators.values)
        }
        // Outside the group's lock: a member commits holding its coordinator's lock, then this one.
        for coordinator in coordinators { coordinator.shutDown() }
    }
}
