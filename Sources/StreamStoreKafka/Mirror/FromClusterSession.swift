import StreamStore
import StreamStoreFormat
import StreamStoreLog

/// One connected run of a mirror from a cluster into the store: the store's topics checked or
/// created to match, each partition's resume point read from the store's log end, then one
/// fetch loop per leader. Any failure ends the session; the next continues from the store's
/// log ends, so a batch appended just before a crash is not fetched again.
struct FromClusterSession {
    let mirror: KafkaMirror
    let client: KafkaClient
    let stateFile: MirrorStateFile
    let stopAt: Locked<[String: Int64]?>

    private var configuration: KafkaMirrorConfiguration { mirror.configuration }

    func run() async throws {
        let store = mirror.store
        let names: [String]
        if configuration.topics.isEmpty {
            let all = try await client.metadata(topics: nil)
            names = all.topics.filter { !$0.isInternal && !$0.name.hasPrefix("__") && $0.errorCode == 0 }.map(\.name).sorted()
        } else {
            names = configuration.topics
        }
        let metadata = try await client.metadata(topics: names)
        var topics: [(topic: Topic, leaders: [Int32: Int32])] = []
        for name in names {
            guard let leaders = try KafkaClient.layout(of: name, in: metadata) else {
                throw KafkaClientError(.invalidConfiguration, "The cluster has no topic \"\(name)\" to mirror.")
            }
            let topic: Topic
            if store.topicNames.contains(name) {
                topic = try store.topic(name)
                guard topic.partitionCount == leaders.count else {
                    throw KafkaClientError(
                        .partitionCountMismatch,
                        "Topic \"\(name)\" has \(leaders.count) partitions on the cluster and \(topic.partitionCount) in the store; records keep their partition, so the counts must match. Mirror into a store without the topic, or create it there with \(leaders.count) partitions.")
                }
            } else {
                var config = TopicConfig()
                config.partitionCount = leaders.count
                topic = try store.createTopic(name, config: config)
            }
            topics.append((topic, leaders))
        }
        let shared = SharedMirrorState(file: stateFile, state: try stateFile.load())
        var cursors: [FetchCursor] = []
        for (topic, leaders) in topics {
            cursors += try await resumePoints(topic: topic, leaders: leaders, state: shared)
        }
        try shared.save()
        let ends = try await fixedEnds(topics: topics)
        var byLeader: [Int32: [FetchCursor]] = [:]
        for cursor in cursors {
            cursor.stopAt = ends?[cursor.key]
            byLeader[cursor.leader, default: []].append(cursor)
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for (leader, cursors) in byLeader {
                let pump = FetchPump(mirror: mirror, client: client, leader: leader, cursors: cursors, state: shared)
                tasks.addTask { try await pump.run() }
            }
            try await tasks.waitForAll()
        }
    }

    /// For a one-shot run, the cluster's log ends when the run began (kept across sessions).
    private func fixedEnds(topics: [(topic: Topic, leaders: [Int32: Int32])]) async throws -> [String: Int64]? {
        guard !configuration.follow else { return nil }
        if let ends = stopAt.withLock({ $0 }) { return ends }
        var ends: [String: Int64] = [:]
        for (topic, leaders) in topics {
            for (partition, offset) in try await client.offsets(topic: topic.name, partitions: leaders, timestamp: ListOffsetsRequest.latestTimestamp) {
                ends[MirrorState.key(topic: topic.name, partition: Int(partition))] = offset
            }
        }
        stopAt.withLock { $0 = ends }
        return ends
    }

    /// Where each partition continues: the store's log end says how much of the copy is there.
    private func resumePoints(topic: Topic, leaders: [Int32: Int32], state: SharedMirrorState) async throws -> [FetchCursor] {
        let indexes = leaders.keys.sorted()
        var committed: [Int32: Int64]?
        var earliest: [Int32: Int64]?
        var cursors: [FetchCursor] = []
        for index in indexes {
            guard let leader = leaders[index] else { continue }
            let partition = Int(index)
            let key = MirrorState.key(topic: topic.name, partition: partition)
            let storeEnd = try topic.logEndOffset(partition: partition)
            let anchor: MirrorState.Anchor
            if let saved = state.anchor(key) {
                anchor = saved
                guard storeEnd >= anchor.targetOffset else {
                    throw KafkaClientError(
                        .targetMismatch, "\"\(topic.name)\"[\(partition)] ends at offset \(storeEnd) in the store, before offset \(anchor.targetOffset) where this mirror began writing it.")
                }
            } else {
                let storeStart = try topic.logStartOffset(partition: partition)
                guard storeEnd == storeStart else {
                    throw KafkaClientError(
                        .targetMismatch,
                        "\"\(topic.name)\"[\(partition)] in the store already holds records (offsets \(storeStart)..<\(storeEnd)) that mirror \"\(configuration.name)\" did not write; it only copies into empty partitions, so that the store's log end tells how far the copy got. Mirror into another store.")
                }
                if committed == nil {
                    committed = try await client.committedOffsets(group: configuration.groupName, topic: topic.name, partitions: indexes)
                    earliest = try await client.offsets(topic: topic.name, partitions: leaders, timestamp: ListOffsetsRequest.earliestTimestamp)
                }
                let start = earliest?[index] ?? 0
                let from = committed?[index].flatMap { $0 >= 0 ? max($0, start) : nil } ?? start
                anchor = MirrorState.Anchor(sourceOffset: from, targetOffset: storeEnd, sequenceOrigin: nil)
                state.setAnchor(key, anchor)
            }
            cursors.append(FetchCursor(topic: topic, partition: partition, leader: leader, next: anchor.resumeOffset(targetEnd: storeEnd)))
        }
        return cursors
    }
}

/// The mirror's state shared by the fetch loops of one session; anchors moved by one loop are
/// saved (durably) before the records that rely on them are appended.
final class SharedMirrorState: Sendable {
    private let file: MirrorStateFile
    private let state: Locked<MirrorState>

    init(file: MirrorStateFile, state: MirrorState) {
        self.file = file
        self.state = Locked(state)
    }

    func anchor(_ key: String) -> MirrorState.Anchor? { state.withLock { $0.anchors[key] } }

    func setAnchor(_ key: String, _ anchor: MirrorState.Anchor) { state.withLock { $0.anchors[key] = anchor } }

    /// Sets `anchor` and saves the whole state before returning.
    func move(_ key: String, to anchor: MirrorState.Anchor) throws(StreamStoreError) {
        try state.withLock { (state) throws(StreamStoreError) in
            state.anchors[key] = anchor
            try file.save(state)
        }
    }

    func save() throws(StreamStoreError) {
        try state.withLock { (state) throws(StreamStoreError) in try file.save(state) }
    }
}

/// One partition's place in a fetch loop: the next cluster offset to fetch.
final class FetchCursor: @unchecked Sendable {
    // Used by one fetch loop at a time (handed to it before it starts).
    let topic: Topic
    let partition: Int
    let leader: Int32
    var next: Int64
    var committed: Int64
    var stopAt: Int64?
    var highWatermark: Int64 = -1

    init(topic: Topic, partition: Int, leader: Int32, next: Int64) {
        self.topic = topic
        self.partition = partition
        self.leader = leader
        self.next = next
        committed = -1
    }

    var key: String { MirrorState.key(topic: topic.name, partition: partition) }
    var isDone: Bool { stopAt.map { next >= $0 } ?? false }
}
