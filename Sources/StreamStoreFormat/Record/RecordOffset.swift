/// Where a record now lies: its partition and offset. What `Producer` deliveries resolve to,
/// and what ``StreamStoreError/writtenRecords`` lists after a call failed part-way.
public struct RecordOffset: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The partition the record went to.
    public var partition: Int
    /// Its offset in that partition.
    public var offset: Int64

    /// A record's place; the store makes these, tests may too.
    public init(partition: Int, offset: Int64) {
        self.partition = partition
        self.offset = offset
    }

    /// `partition:offset`, as Kafka tools print it.
    public var description: String { "\(partition):\(offset)" }
}
