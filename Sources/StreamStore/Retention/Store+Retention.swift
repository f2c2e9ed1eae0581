import StreamStoreFormat
import StreamStoreLog
extension Store {
    /// Applies retention now to one topic (or all) and reports, per partition, the segments
    /// deleted, the new log start offset, and for each segment kept what keeps it. With
    /// `dryRun` nothing changes and the report says what would be deleted.
    ///
    /// A partition whose run fails (an I/O error) does not stop the others: each partition's
    /// deletions stand on their own, and retention is what frees a full disk. The first failure
    /// is thrown once every partition had its turn; its message says how much the others
    /// deleted, and the logger has each partition's deletions.
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
        var failures: [StreamStoreError] = []
        for topic in topics {
            for partition in topic.partitions {
                do throws(StreamStoreError) {
                    reports.append(try partition.enforceRetention(nowMilliseconds: now, dryRun: dryRun))
                } catch {
                    guard error.code != .storeClosed else { throw error }
                    failures.append(error)
                }
            }
        }
        guard var failure = failures.first else { return reports }
        if !reports.isEmpty {
            let deleted = reports.reduce(0) { $0 + $1.deleted.count }
            failure.message += " The other partitions went ahead: \(reports.count) of \(failures.count + reports.count) ran,"
                + " \(dryRun ? "and would delete" : "deleting") \(deleted) segment(s)."
        }
        throw failure
    }
}
