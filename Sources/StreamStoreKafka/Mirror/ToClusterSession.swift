import NIOCore
import StreamStore
import StreamStoreFormat
import StreamStoreLog

/// One connected run of a mirror from the store into a cluster: topics checked or created,
/// each partition's resume point read from the cluster, then one produce pipeline per leader.
/// Any failure ends the session; the mirror starts a new one, which looks at the cluster's
/// log ends again, so nothing in flight is lost or doubled.
struct ToClusterSession {
    let mirror: KafkaMirror
    let client: KafkaClient
    let stateFile: MirrorStateFile
    let stopAt: Locked<[String: Int64]?>

    private var configuration: KafkaMirrorConfiguration { mirror.configuration }

    func run() async throws {
        let store = mirror.store
        let names = configuration.topics.isEmpty ? store.topicNames.filter { !$0.hasPrefix("__") } : configuration.topics
        var topics: [Topic] = []
        for name in names { topics.append(try store.topic(name)) }
        let leaders = try await prepareTopics(topics)
        var state = try stateFile.load()
        if state.producerId == nil {
            let producer = try await client.initProducerId()
            state.producerId = producer.id
            state.producerEpoch = producer.epoch
            for key in state.anchors.keys { state.anchors[key]?.sequenceOrigin = nil }
            try stateFile.save(state)
        }
        let cursors = try await resumePoints(topics: topics, leaders: leaders, state: &state)
        try stateFile.save(state)
        let ends = stopAt.withLock { ends in
            if ends == nil, !configuration.follow {
                var fixed: [String: Int64] = [:]
                for cursor in cursors { fixed[cursor.key] = (try? cursor.topic.logEndOffset(partition: cursor.partition)) ?? cursor.next }
                ends = fixed
            }
            return ends
        }
        var commits: [String: [Int: Int64]] = [:]
        for cursor in cursors { commits[cursor.topic.name, default: [:]][cursor.partition] = cursor.next }
        let group = try store.group(configuration.groupName)
        for (topic, offsets) in commits {
            let committed = try group.committedOffsets(topic: topic)
            let changed = offsets.filter { committed[$0.key] != $0.value }
            if !changed.isEmpty { try await group.commit(topic: topic, offsets: changed) }
        }
        var byLeader: [Int32: [ProduceCursor]] = [:]
        for cursor in cursors {
            cursor.stopAt = ends?[cursor.key]
            byLeader[cursor.leader, default: []].append(cursor)
        }
        guard let producerId = state.producerId, let epoch = state.producerEpoch else { return }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for (leader, cursors) in byLeader {
                let pump = ProducePump(
                    mirror: mirror, client: client, leader: leader, cursors: cursors, group: group,
                    producerId: producerId, producerEpoch: epoch)
                tasks.addTask { try await pump.run() }
            }
            try await tasks.waitForAll()
        }
    }

    /// Metadata of every topic, creating those missing with the store's partition count;
    /// partition → leader by topic.
    private func prepareTopics(_ topics: [Topic]) async throws -> [String: [Int32: Int32]] {
        var metadata = try await client.metadata(topics: topics.map(\.name))
        var created = false
        for topic in topics where try KafkaClient.layout(of: topic.name, in: metadata) == nil {
            try await client.createTopic(topic.name, partitions: topic.partitionCount)
            mirror.configuration.logger.info("Created topic \(topic.name) with \(topic.partitionCount) partitions on the cluster.")
            created = true
        }
        var attempts = 0
        while true {
            if created || attempts > 0 { metadata = try await client.metadata(topics: topics.map(\.name)) }
            var result: [String: [Int32: Int32]] = [:]
            var missing: String?
            for topic in topics {
                guard let leaders = try KafkaClient.layout(of: topic.name, in: metadata) else {
                    missing = topic.name
                    break
                }
                guard leaders.count == topic.partitionCount else {
                    if leaders.count < topic.partitionCount, created, attempts < 50 { missing = topic.name; break }
                    throw KafkaClientError(
                        .partitionCountMismatch,
                        "Topic \"\(topic.name)\" has \(leaders.count) partitions on the cluster and \(topic.partitionCount) in the store; records keep their partition, so the counts must match. Mirror into a topic of another name, or give the cluster's topic \(topic.partitionCount) partitions.")
                }
                result[topic.name] = leaders
            }
            guard let missing else { return result }
            attempts += 1
            // A topic just created shows up in the metadata a moment later.
            guard attempts < 50 else {
                throw KafkaClientError(.broker, "Topic \"\(missing)\" does not show in the cluster's metadata after it was created.", kafkaErrorCode: 3)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Where each partition continues: the cluster's log end says how much of the copy is
    /// there (MirrorState). Partitions copied for the first time get their anchor here,
    /// saved before anything is produced to them.
    private func resumePoints(topics: [Topic], leaders: [String: [Int32: Int32]], state: inout MirrorState) async throws -> [ProduceCursor] {
        let group = try mirror.store.group(configuration.groupName)
        var cursors: [ProduceCursor] = []
        for topic in topics {
            guard let partitionLeaders = leaders[topic.name] else { continue }
            let reported = try await client.offsets(topic: topic.name, partitions: partitionLeaders, timestamp: ListOffsetsRequest.latestTimestamp)
            let earliest = try await client.offsets(topic: topic.name, partitions: partitionLeaders, timestamp: ListOffsetsRequest.earliestTimestamp)
            let latest = try await client.verifiedLogEnds(topic: topic.name, partitions: partitionLeaders, reported: reported, starts: earliest)
            for (partition, end) in latest where end != reported[partition] {
                mirror.configuration.logger.notice(
                    "\"\(topic.name)\"[\(partition)] on the cluster holds records up to offset \(end), past the log end \(reported[partition] ?? -1) its ListOffsets answer reported; the copy continues after them.")
            }
            let committed = try group.committedOffsets(topic: topic.name)
            for partition in 0..<topic.partitionCount {
                let index = Int32(partition)
                guard let targetEnd = latest[index], let targetStart = earliest[index], let leader = partitionLeaders[index] else { continue }
                let key = MirrorState.key(topic: topic.name, partition: partition)
                let sourceStart = try topic.logStartOffset(partition: partition)
                let sourceEnd = try topic.logEndOffset(partition: partition)
                var anchor: MirrorState.Anchor
                if let saved = state.anchors[key] {
                    anchor = saved
                    guard targetEnd >= anchor.targetOffset else {
                        throw KafkaClientError(
                            .targetMismatch,
                            "\"\(topic.name)\"[\(partition)] ends at offset \(targetEnd) on the cluster, before offset \(anchor.targetOffset) where this mirror began writing it: the topic was deleted or truncated there. Mirror under another --name into a new topic.")
                    }
                } else {
                    guard targetEnd == targetStart else {
                        throw KafkaClientError(
                            .targetMismatch,
                            "\"\(topic.name)\"[\(partition)] on the cluster already holds records (offsets \(targetStart)..<\(targetEnd)) that mirror \"\(configuration.name)\" did not write; it only copies into empty partitions, so that the cluster's log end tells how far the copy got. Mirror into a new topic.")
                    }
                    let from = max(committed[partition] ?? sourceStart, sourceStart)
                    anchor = MirrorState.Anchor(sourceOffset: from, targetOffset: targetEnd, sequenceOrigin: nil)
                }
                let resume = anchor.resumeOffset(targetEnd: targetEnd)
                guard resume <= sourceEnd else {
                    throw KafkaClientError(
                        .targetMismatch,
                        "\"\(topic.name)\"[\(partition)] holds \(targetEnd - anchor.targetOffset) mirrored records on the cluster, more than the store has from offset \(anchor.sourceOffset) on (its log ends at \(sourceEnd)): something else writes to the cluster's topic.")
                }
                guard resume >= sourceStart else {
                    throw StreamStoreError(
                        .offsetOutOfRange,
                        "\"\(topic.name)\"[\(partition)] should continue at offset \(resume), but the store's retention already removed records up to \(sourceStart): they can no longer be mirrored.",
                        topic: topic.name, partition: partition, offset: resume)
                }
                if anchor.sequenceOrigin == nil { anchor.sequenceOrigin = resume }
                state.anchors[key] = anchor
                cursors.append(ProduceCursor(topic: topic, partition: partition, leader: leader, next: resume, sequenceOrigin: anchor.sequenceOrigin ?? resume))
            }
        }
        return cursors
    }
}

/// One partition's place in a produce pipeline: the next source offset to send, and the one
/// after the last record the cluster acknowledged.
final class ProduceCursor: @unchecked Sendable {
    // Used by one pump task at a time (handed to it before it starts).
    let topic: Topic
    let partition: Int
    let leader: Int32
    var next: Int64
    var acknowledged: Int64
    let sequenceOrigin: Int64
    var stopAt: Int64?

    init(topic: Topic, partition: Int, leader: Int32, next: Int64, sequenceOrigin: Int64) {
        self.topic = topic
        self.partition = partition
        self.leader = leader
        self.next = next
        acknowledged = next
        self.sequenceOrigin = sequenceOrigin
    }

    var key: String { MirrorState.key(topic: topic.name, partition: partition) }

    /// The producer sequence of the record at `offset`: its distance from the origin, wrapping
    /// at 2^31 as Kafka's sequences do.
    func sequence(of offset: Int64) -> Int32 { Int32(truncatingIfNeeded: (offset - sequenceOrigin) & 0x7FFF_FFFF) }
}
