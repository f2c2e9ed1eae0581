import StreamStore

/// `replay --group G --commit`: commits to the group, per partition, the offset after the last
/// record printed (Kafka's convention: the next offset to process).
///
/// A commit is fsynced under flush `always`, so committing after every record would cost a
/// disk flush per record; commits are batched instead: after ``recordsPerCommit`` records or
/// ``millisecondsPerCommit``, whichever comes first, when the replay reaches the log end (it
/// would wait there), and before the command exits. The caller flushes stdout before each
/// commit, so an offset is committed only once its records are written out: on a clean exit
/// nothing printed is left uncommitted, and nothing is committed that was not printed.
struct ReplayCommits {
    static let recordsPerCommit = 1000
    static let millisecondsPerCommit: Int64 = 500

    let groupName: String
    let topicName: String
    /// The group's offsets as last read or committed: partition → next offset to process.
    private(set) var committed: [Int: Int64]
    private var sinceLastCommit = Stopwatch()
    private var printedAtLastCommit = 0

    init(groupName: String, topicName: String, committed: [Int: Int64]) {
        self.groupName = groupName
        self.topicName = topicName
        self.committed = committed
    }

    /// True when enough was printed, or enough time passed, since the last commit.
    func isDue(printed: Int) -> Bool {
        printed - printedAtLastCommit >= Self.recordsPerCommit || sinceLastCommit.elapsedSeconds * 1000 >= Double(Self.millisecondsPerCommit)
    }

    /// Commits the partitions of `delivered` whose offset differs from the group's, in one
    /// atomic step; nothing when none does.
    mutating func commit(_ delivered: [Int: Int64], to group: ConsumerGroup, printed: Int) async throws(StreamStoreError) {
        let changed = delivered.filter { committed[$0.key] != $0.value }
        sinceLastCommit = Stopwatch()
        printedAtLastCommit = printed
        guard !changed.isEmpty else { return }
        try await group.commit(topic: topicName, offsets: changed)
        committed.merge(changed) { $1 }
    }
}
