import StreamStoreFormat
import StreamStoreLog
extension Topic {
    /// Replays records of some (default: all) partitions as an `AsyncSequence`.
    ///
    /// ```swift
    /// for try await record in orders.replay(options: .init(from: .timestamp(yesterday))) { ... }
    /// for try await record in orders.replay(partitions: [3], options: .init(from: .end, follow: true)) { ... }
    /// ```
    /// Each partition's records arrive in offset order; records of different partitions
    /// interleave a read at a time. Without `follow` the sequence ends when every partition
    /// reaches its log end (or its stop); with it, it waits for appends (no polling) until the
    /// task is cancelled. Errors (an unknown partition, an offset out of range with
    /// ``OffsetResetPolicy/fail``, a corrupt batch, a closed store) are thrown by the iterator.
    public func replay(partitions: [Int]? = nil, options: ReplayOptions = ReplayOptions()) -> RecordReplay {
        RecordReplay(topic: self, partitions: partitions ?? Array(0..<partitionCount), options: options)
    }

    /// Replays one partition's records as an `AsyncSequence`.
    public func replay(partition: Int, options: ReplayOptions = ReplayOptions()) -> RecordReplay {
        replay(partitions: [partition], options: options)
    }

    /// Replays batch by batch: the fastest way through a log (no object per record; read
    /// records with ``/StreamStoreFormat/StoredBatch/forEachRecord(from:_:)``).
    public func replayBatches(partitions: [Int]? = nil, options: ReplayOptions = ReplayOptions()) -> BatchReplay {
        BatchReplay(topic: self, partitions: partitions ?? Array(0..<partitionCount), options: options)
    }

    func makeReplayEngine(partitions indices: [Int], options: ReplayOptions) throws(StreamStoreError) -> ReplayEngine {
        var cursors: [PartitionCursor] = []
        for index in indices {
            cursors.append(try PartitionCursor(partition: partition(index), start: options.from, stop: options.until, resetPolicy: options.resetPolicy))
        }
        return ReplayEngine(cursors: cursors, options: options)
    }
}
