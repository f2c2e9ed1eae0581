import GRDB
import StreamStore

/// The rows of one pass bound for one partition, as one batch in row order.
struct PartitionTarget: Sendable {
    var topicName: String
    var partition: Int
    var topic: Topic?
    var rowIDs: [Int64] = []
    var records: [StreamStore.Record] = []
    /// Why these rows cannot be published now (their topic has no de-duplication window, their
    /// partition does not exist, a row is damaged); the other partitions go on.
    var problem: (any Error)?
}

extension OutboxRelay {
    /// Splits rows (in id order) into one target per partition, in order of each partition's
    /// first row, each keeping its rows' order.
    func partitionGroups(_ rows: [OutboxRow]) throws -> [PartitionTarget] {
        var targets: [PartitionTarget] = []
        var indexes: [String: [Int: Int]] = [:]
        var resolved: [String: Result<Topic, any Error>] = [:]
        for row in rows {
            if resolved[row.topic] == nil { resolved[row.topic] = Result { try self.topic(named: row.topic) } }
            var partition = row.partition ?? 0
            var problem: (any Error)? = row.problem
            var topic: Topic?
            switch resolved[row.topic] {
            case .success(let found):
                topic = found
                if let explicit = row.partition {
                    if explicit >= found.partitionCount, problem == nil {
                        problem = OutboxError(
                            .invalidOutboxRow,
                            "Outbox row \(row.id) names partition \(explicit) of topic \(row.topic), which has \(found.partitionCount); fix or delete the row.",
                            rowID: row.id)
                    }
                } else if let key = row.key {
                    partition = found.partition(forKey: key)
                } else {
                    partition = Int(row.id % Int64(found.partitionCount))
                }
            case .failure(let error):
                problem = problem ?? error
            case nil:
                break
            }
            let index: Int
            if let existing = indexes[row.topic]?[partition] {
                index = existing
            } else {
                index = targets.count
                indexes[row.topic, default: [:]][partition] = index
                targets.append(PartitionTarget(topicName: row.topic, partition: partition, topic: topic))
            }
            targets[index].rowIDs.append(row.id)
            targets[index].records.append(row.record)
            if targets[index].problem == nil, let problem { targets[index].problem = problem }
        }
        return targets
    }

    /// The topic rows name, created with ``Options/newTopicConfig`` when the store lacks it;
    /// refused without a de-duplication window.
    func topic(named name: String) throws -> Topic {
        if let known = topics.withLock({ $0[name] }) { return try checked(known) }
        let topic: Topic
        do {
            topic = try store.topic(name)
        } catch {
            guard error.code == .unknownTopic else { throw error }
            topic = try store.createTopic(name, config: options.newTopicConfig)
        }
        topics.withLock { $0[name] = topic }
        return try checked(topic)
    }

    private func checked(_ topic: Topic) throws -> Topic {
        guard topic.config.dedupeWindowMilliseconds != nil else {
            throw OutboxError(
                .dedupeWindowMissing,
                "Topic \(topic.name) has no de-duplication window, so a row published again after a crash would appear twice; give it one (TopicConfig.dedupeWindowMilliseconds).")
        }
        return topic
    }

    /// What publishing one target did: how many of its rows (a prefix, in row order) are
    /// durable in the topic, and the error that stopped the rest.
    struct Published: Sendable {
        var durableRows: Int
        var failure: (any Error)?
    }

    /// Appends the target's records as one batch (several when large records pass the batch
    /// limit) and waits until they are durable. When a later batch fails, the rows of the
    /// batches before it are durable all the same and are reported so, to be deleted.
    static func publish(_ target: PartitionTarget) async -> Published {
        if let problem = target.problem { return Published(durableRows: 0, failure: problem) }
        guard let topic = target.topic else { return Published(durableRows: target.rowIDs.count, failure: nil) }
        let waitsForDisk = topic.config.flush == .everyAppend
        var appendedRows = 0
        var durableRows = 0
        do {
            var batch = RecordBatch()
            for record in target.records {
                do {
                    try batch.append(record)
                } catch {
                    guard error.code == .batchTooLarge, batch.count > 0 else { throw error }
                    // Large records: the rows go out in several batches, still in order.
                    _ = try await topic.append(batch, partition: target.partition)
                    appendedRows += batch.count
                    if waitsForDisk { durableRows = appendedRows }
                    batch.removeAll()
                    try batch.append(record)
                }
            }
            _ = try await topic.append(batch, partition: target.partition)
            appendedRows += batch.count
            if !waitsForDisk { try await topic.flush() }
            return Published(durableRows: appendedRows, failure: nil)
        } catch {
            if !waitsForDisk && appendedRows > 0, (try? await topic.flush()) != nil { durableRows = appendedRows }
            return Published(durableRows: durableRows, failure: error)
        }
    }
}
