import Foundation
import NIOCore
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreKafka

/// The mirror and its client against this module's own server, in process: a store copied to
/// a served store and back, a second run that finds nothing to do, a resumed run after the
/// far side already holds part of the copy, and the refusals (partition counts, foreign records).
@Suite(.timeLimit(.minutes(5))) struct KafkaMirrorTests {
    final class Folders {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-mirror-\(UUID().uuidString)").path
        func path(_ name: String) -> String { root + "/" + name }
        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    /// `count` keyed records with headers and timestamps into `topic`.
    static func fill(_ topic: Topic, count: Int, from first: Int = 0) async throws {
        var records: [Record] = []
        for index in first..<(first + count) {
            records.append(Record(
                key: Array("key-\(index % 37)".utf8), value: Array("value-\(index)".utf8),
                headers: [RecordHeader(key: "seq", value: Array("\(index)".utf8))], timestamp: 1_700_000_000_000 + Int64(index)))
        }
        _ = try await topic.append(records)
    }

    /// Every record of `topic`, partition by partition, as comparable tuples.
    static func contents(_ topic: Topic) throws -> [[String]] {
        try (0..<topic.partitionCount).map { partition in
            try topic.read(partition: partition, from: topic.logStartOffset(partition: partition), maxBytes: 64 << 20).map { record in
                "\(record.offset) \(record.timestamp) \(record.key.map { Array($0) } ?? []) \(Array(record.value ?? [])) \(record.headers)"
            }
        }
    }

    static func serve(_ store: Store) async throws -> (KafkaServer, String) {
        let server = try KafkaServer(store: store, configuration: KafkaServerConfiguration(port: 0, autoCreateTopics: false))
        let port = try await server.start()
        return (server, "127.0.0.1:\(port)")
    }

    @Test func aStoreGoesToAServedStoreAndComesBackEqual() async throws {
        let folders = Folders()
        let source = try Store.open(at: folders.path("source"))
        let served = try Store.open(at: folders.path("served"))
        let back = try Store.open(at: folders.path("back"))
        defer { try? source.close(); try? served.close(); try? back.close() }
        let orders = try source.createTopic("orders", config: TopicConfig(partitionCount: 3))
        try await Self.fill(orders, count: 2_000)
        let (server, address) = try await Self.serve(served)
        defer { Task { await server.shutdown() } }

        let out = try await KafkaMirror(store: source, configuration: KafkaMirrorConfiguration(direction: .toCluster, bootstrapServers: ["127.0.0.1:1", address], maxBatchBytes: 4096)).run()
        #expect(out.records == 2_000)
        #expect(try Self.contents(served.topic("orders")) == Self.contents(orders))
        #expect(try source.group("mirror-default").committedOffsets(topic: "orders") == [0: orders.logEndOffset(partition: 0), 1: orders.logEndOffset(partition: 1), 2: orders.logEndOffset(partition: 2)])

        let again = try await KafkaMirror(store: source, configuration: KafkaMirrorConfiguration(direction: .toCluster, bootstrapServers: [address])).run()
        #expect(again.records == 0)

        try await Self.fill(orders, count: 500, from: 2_000)
        let more = try await KafkaMirror(store: source, configuration: KafkaMirrorConfiguration(direction: .toCluster, bootstrapServers: [address])).run()
        #expect(more.records == 500)

        let returned = try await KafkaMirror(store: back, configuration: KafkaMirrorConfiguration(direction: .fromCluster, bootstrapServers: [address], topics: ["orders"])).run()
        #expect(returned.records == 2_500)
        #expect(try Self.contents(back.topic("orders")) == Self.contents(orders))
        #expect(try served.group("mirror-default").committedOffsets(topic: "orders").values.reduce(0, +) == 2_500)
    }

    @Test func aCopyThatGotFurtherThanItsCommitsContinuesFromTheTargetsEnd() async throws {
        let folders = Folders()
        let source = try Store.open(at: folders.path("source"))
        let served = try Store.open(at: folders.path("served"))
        defer { try? source.close(); try? served.close() }
        let orders = try source.createTopic("orders", config: TopicConfig(partitionCount: 1))
        try await Self.fill(orders, count: 300)
        let (server, address) = try await Self.serve(served)
        defer { Task { await server.shutdown() } }
        _ = try await KafkaMirror(store: source, configuration: KafkaMirrorConfiguration(direction: .toCluster, bootstrapServers: [address])).run()
        // As after a crash between the cluster's acknowledgement and the commit: the group is
        // behind, the cluster is not. Nothing may be sent twice.
        try await source.group("mirror-default").commit(topic: "orders", offsets: [0: 100])
        try await Self.fill(orders, count: 50, from: 300)
        let resumed = try await KafkaMirror(store: source, configuration: KafkaMirrorConfiguration(direction: .toCluster, bootstrapServers: [address])).run()
        #expect(resumed.records == 50)
        #expect(try Self.contents(served.topic("orders")) == Self.contents(orders))
    }

    @Test func partitionCountsThatDifferAndForeignRecordsAreRefused() async throws {
        let folders = Folders()
        let source = try Store.open(at: folders.path("source"))
        let served = try Store.open(at: folders.path("served"))
        defer { try? source.close(); try? served.close() }
        try await Self.fill(source.createTopic("orders", config: TopicConfig(partitionCount: 2)), count: 10)
        _ = try served.createTopic("orders", config: TopicConfig(partitionCount: 3))
        try await Self.fill(source.createTopic("audit", config: TopicConfig(partitionCount: 1)), count: 10)
        try await Self.fill(served.createTopic("audit", config: TopicConfig(partitionCount: 1)), count: 1)
        let (server, address) = try await Self.serve(served)
        defer { Task { await server.shutdown() } }
        let counts = try KafkaMirror(store: source, configuration: KafkaMirrorConfiguration(direction: .toCluster, bootstrapServers: [address], topics: ["orders"]))
        await #expect(throws: KafkaClientError.self) { try await counts.run() }
        do {
            try await counts.run()
        } catch let error as KafkaClientError {
            #expect(error.code == .partitionCountMismatch)
        }
        let foreign = try KafkaMirror(store: source, configuration: KafkaMirrorConfiguration(direction: .toCluster, bootstrapServers: [address], topics: ["audit"]))
        do {
            try await foreign.run()
            Issue.record("a partition holding records the mirror did not write was written")
        } catch let error as KafkaClientError {
            #expect(error.code == .targetMismatch)
        }
    }

    @Test func addressesAndNamesAreChecked() throws {
        #expect(try KafkaClient.Address.parse("kafka-1:9092") == KafkaClient.Address(host: "kafka-1", port: 9092))
        #expect(try KafkaClient.Address.parse("[::1]:19092") == KafkaClient.Address(host: "::1", port: 19092))
        #expect(throws: KafkaClientError.self) { try KafkaClient.Address.parse("kafka-1") }
        #expect(throws: KafkaClientError.self) { try KafkaClient.Address.parse(":9092") }
        #expect(KafkaMirror.isValidName("dc-2.orders_copy"))
        #expect(!KafkaMirror.isValidName("a/b"))
        #expect(!KafkaMirror.isValidName(""))
    }

    @Test func anAnchorMapsTheTargetsEndToTheSourceOffsetToContinueFrom() {
        let anchor = MirrorState.Anchor(sourceOffset: 1_000, targetOffset: 0, sequenceOrigin: 1_000)
        #expect(anchor.resumeOffset(targetEnd: 0) == 1_000)
        #expect(anchor.resumeOffset(targetEnd: 250) == 1_250)
        #expect(KafkaClientError(.connection, "lost").isRetriable)
        #expect(KafkaClientError.broker(6, "produce").isRetriable)
        #expect(!KafkaClientError.broker(10, "produce").isRetriable)
        #expect(KafkaMirror.isProducerStateError(.broker(45, "produce")))
        // A duplicate answer ends the session (it is not an acknowledgement), to be retried
        // after a fresh look at the log end; it is no reason for a new producer id.
        #expect(KafkaClientError.broker(46, "produce").isRetriable)
        #expect(!KafkaMirror.isProducerStateError(.broker(46, "produce")))
    }

    /// Where the batches of a fetch answer end, which a resuming mirror trusts over ListOffsets
    /// (Tansu 0.6 reports the last batch's base offset + 1): the last batch's last offset + 1,
    /// also when the answer cuts that batch short after its header.
    @Test func theBatchesOfAFetchTellWhereTheLogEnds() throws {
        func encoded(base: Int64, count: Int) throws -> [UInt8] {
            var batch = RecordBatch()
            for index in 0..<count { try batch.append(Record(value: "record \(base + Int64(index))")) }
            return batch.encoded(baseOffset: base, appendTimeMilliseconds: 0, partitionLeaderEpoch: -1)
        }
        let first = try encoded(base: 20, count: 10)
        let last = try encoded(base: 30, count: 5)
        func end(_ bytes: [UInt8]) -> Int64? { KafkaClient.nextOffset(afterBatchesIn: ByteBuffer(bytes: bytes)) }
        #expect(end(first + last) == 35)
        #expect(end(first + last.prefix(BatchHeader.size)) == 35, "a header is enough")
        #expect(end(first + last.prefix(BatchHeader.size - 1)) == 30, "a header cut short is not read")
        #expect(end(first) == 30)
        #expect(end([]) == nil)
        var garbage = first
        garbage[BatchHeader.lengthPrefixSize + 4] = 7  // the magic byte
        #expect(end(garbage) == nil, "bytes that are no batch say nothing")
    }
}
