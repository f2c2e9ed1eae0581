/// A topic's name with entries for some of its partitions: the shape most requests and
/// responses repeat (Produce, Fetch, ListOffsets, OffsetCommit, OffsetFetch...).
package struct TopicEntry<Partition: KafkaStruct>: KafkaStruct {
    package var name = ""
    package var partitions: [Partition] = []

    package init() {}

    package mutating func code<Coder: KafkaCoder>(_ coder: inout Coder, version: Int16) throws(KafkaCodecError) {
        try coder.string(&name)
        try coder.array(&partitions, version: version)
    }
}
