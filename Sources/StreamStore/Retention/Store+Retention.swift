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
        return try applyRetention(topics: name.map { [$0] }, dryRun: dryRun)
    }
}

extension TopicDirectory {
    /// Retention of `names` (every topic when nil), partition by partition, at the time now.
    func applyRetention(topics names: [String]?, dryRun: Bool) throws(StreamStoreError) -> [PartitionRetention] {
        let topics = try topics(named: names)
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
