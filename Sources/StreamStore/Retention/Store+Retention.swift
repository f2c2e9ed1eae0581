import StreamStoreFormat
import StreamStoreLog
extension Store {
    /// Applies retention now to one topic (or all) and reports, per partition, the segments
    /// deleted, the new log start offset, and for each segment kept what keeps it. With
    /// `dryRun` nothing changes and the report says what would be deleted.
    ///
    /// Retention also runs by itself every ``Options/retentionCheckMilliseconds``. Readers
    /// inside a deleted segment are not disturbed: a read under way completes from the open
    /// file, and the next read moves to the new log start per the reader's reset policy.
    @discardableResult
    public func enforceRetention(topic name: String? = nil, dryRun: Bool = false) throws(StreamStoreError) -> [PartitionRetention] {
        if !dryRun { try requireWriter("enforce retention") }
        let topics: [Topic]
        if let name {
            topics = [try topic(name)]
        } else {
            topics = try withOpenState { state in state.topics.keys.sorted().map { state.topics[$0]! } }
        }
        let now = options.clock.nowMilliseconds()
        var reports: [PartitionRetention] = []
        for topic in topics {
            for partition in topic.partitions {
                reports.append(try partition.enforceRetention(nowMilliseconds: now, dryRun: dryRun))
            }
        }
        return reports
    }
}
