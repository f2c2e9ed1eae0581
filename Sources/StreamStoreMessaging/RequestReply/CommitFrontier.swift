/// Which offsets a member may commit while it handles records of a partition concurrently: the
/// next offset after the longest run of finished records from the oldest one still under way.
///
/// Records of a partition start in offset order and finish in any order; a commit never passes
/// a record that is not finished, so a crash redelivers exactly the unfinished ones (and maybe
/// finished ones after them, which at-least-once allows).
struct CommitFrontier {
    private struct PartitionState {
        /// Offsets started, oldest first, with whether each is finished.
        var started: [(offset: Int64, finished: Bool)] = []
        var head = 0
    }

    private var partitions: [Int: PartitionState] = [:]

    mutating func start(partition: Int, offset: Int64) {
        partitions[partition, default: PartitionState()].started.append((offset, false))
    }

    /// Marks a record finished; returns the partition's new next offset to commit when the
    /// frontier moved.
    mutating func finish(partition: Int, offset: Int64) -> Int64? {
        guard var state = partitions[partition] else { return nil }
        defer { partitions[partition] = state }
        guard let index = state.started[state.head...].firstIndex(where: { $0.offset == offset && !$0.finished }) else { return nil }
        state.started[index].finished = true
        var next: Int64?
        while state.head < state.started.count, state.started[state.head].finished {
            next = state.started[state.head].offset + 1
            state.head += 1
        }
        if state.head > 1024, state.head * 2 > state.started.count {
            state.started.removeFirst(state.head)
            state.head = 0
        }
        return next
    }
}
