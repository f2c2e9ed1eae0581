/// A topic's name with entries for some of its partitions: the shape most requests and
/// responses repeat (Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch...).
public struct TopicEntry<Partition: KafkaStruct>: KafkaStruct {
    public var name = ""
    public var partitions: [Partition] = []

    public init() {}

    public mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&name)
        try coder.array(&partitions, version: version)
    }
}
