import StreamStoreFormat
import StreamStoreLog
extension Store {
    /// `topic`'s dead-letter topic, `<topic>.dlq`: the existing one, or a new one when there is
    /// none yet. `.unknownTopic` when `topic` itself does not exist.
    ///
    /// A new dead-letter topic has one partition (dead letters are few, and one partition keeps
    /// them in the order they failed; each names its origin partition), flush `.everyAppend`, and
    /// the origin topic's compression and retention (so a dead letter is kept as long as a
    /// record of its topic, counted from its failure). Change them with
    /// ``updateTopic(_:_:)``; a dead-letter topic made by hand is used as it is.
    public func deadLetterTopic(for topicName: String) throws(StreamStoreError) -> Topic {
        let origin = try topic(topicName)
        let name = DeadLetter.topicName(for: topicName)
        do throws(StreamStoreError) {
            return try topic(name)
        } catch where error.code == .unknownTopic {
            let config = TopicConfig(
                partitionCount: 1, flush: .everyAppend, compression: origin.config.compression,
                retentionMilliseconds: origin.config.retentionMilliseconds, retentionBytes: origin.config.retentionBytes)
            do throws(StreamStoreError) {
                return try createTopic(name, config: config)
            } catch where error.code == .topicExists {
                // Made meanwhile by another task, with other settings.
                return try topic(name)
            }
        }
    }

    /// The dead letters of `topic` in its dead-letter topic, oldest first (partition by
    /// partition, from each log start), at most `limit`: each read back, or, for a record that is
    /// not a valid dead letter, the `.invalidDeadLetter` error saying why. Empty when `topic`
    /// never dead-lettered a record; `.unknownTopic` when `topic` does not exist.
    public func deadLetters(of topicName: String, limit: Int? = nil) throws(StreamStoreError) -> [Result<DeadLetter, StreamStoreError>] {
        _ = try topic(topicName)
        let name = DeadLetter.topicName(for: topicName)
        guard topicNames.contains(name) else { return [] }
        let dlq = try topic(name)
        var result: [Result<DeadLetter, StreamStoreError>] = []
        for partition in 0..<dlq.partitionCount {
            var offset = try dlq.logStartOffset(partition: partition)
            while limit.map({ result.count < $0 }) ?? true {
                let records = try dlq.read(partition: partition, from: offset)
                guard let last = records.last else { break }
                for record in records.prefix(limit.map { $0 - result.count } ?? records.count) {
                    do throws(StreamStoreError) {
                        result.append(.success(try DeadLetter(record)))
                    } catch {
                        result.append(.failure(error.with(topic: name, partition: partition)))
                    }
                }
                offset = last.offset + 1
            }
        }
        return result
    }
}
