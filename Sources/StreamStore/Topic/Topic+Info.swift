import StreamStoreFormat
import StreamStoreLog

extension Topic {
    /// Offsets, segments, bytes and timestamps of one partition.
    public func info(partition index: Int) throws(StreamStoreError) -> PartitionInfo {
        try partition(index).info()
    }
}
