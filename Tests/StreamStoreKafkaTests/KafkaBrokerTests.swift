import Foundation
import NIOCore
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@_spi(Fuzzing) @testable import StreamStoreKafka
@testable import StreamStoreLog

/// The broker behind the wire: requests in, Kafka answers out, against a real store in a
/// temporary folder. Wrong requests get error codes; only frames that are not requests throw.
@Suite(.timeLimit(.minutes(5))) struct KafkaBrokerTests {
    final class Fixture {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-kafka-\(UUID().uuidString)").path
        let store: Store
        let broker: KafkaBroker
        var correlation: Int32 = 0

        init(fileSystem: (any FileSystem)? = nil, maxFetchWaitMilliseconds: Int64 = Limits.kafkaMaxFetchWaitMilliseconds) throws {
            var options = Store.Options()
            if let fileSystem { options.fileSystem = fileSystem }
            store = try Store.open(at: path, options: options)
            _ = try store.createTopic("orders", config: TopicConfig(partitionCount: 2))
            broker = try KafkaBroker(
                store: store, configuration: KafkaServerConfiguration(initialRebalanceDelayMilliseconds: 0), maxFetchWaitMilliseconds: maxFetchWaitMilliseconds)
        }

        deinit {
            try? store.close()
            try? FileManager.default.removeItem(atPath: path)
        }

        /// Sends a request through the broker and decodes the answer as `Response`.
        func call<Request: KafkaMessage, Response: KafkaMessage>(_ request: Request, version: Int16, as _: Response.Type) async throws -> Response {
            correlation += 1
            var frame = ByteBuffer()
            RequestHeader(apiKey: Request.apiKey.rawValue, apiVersion: version, correlationId: correlation, clientId: "tests").encode(into: &frame)
            request.encode(into: &frame, version: version)
            let reply = try await broker.handle(frame, clientHost: "127.0.0.1")
            var bytes: ByteBuffer
            switch reply {
            case .respond(let buffer): bytes = buffer
            case .later(let task): bytes = try #require(await task.value)
            case .none: throw KafkaCodecError.truncated(field: "no response", needed: 0)
            }
            #expect(bytes.readInteger(as: Int32.self) == Int32(bytes.readableBytes))
            let header = try ResponseHeader.decode(from: &bytes, headerVersion: Response.apiKey.responseHeaderVersion(version))
            #expect(header.correlationId == correlation)
            return try Response.decode(from: &bytes, version: version)
        }

        func produce(_ batch: ByteBuffer, partition: Int32 = 0, topic: String = "orders") async throws -> ProduceResponse.Partition {
            let request = ProduceRequest.with {
                $0.acks = -1
                $0.topics = [.with { $0.name = topic; $0.partitions = [.with { $0.index = partition; $0.records = batch }] }]
            }
            let response = try await call(request, version: 8, as: ProduceResponse.self)
            return try #require(response.topics.first?.partitions.first)
        }

        func fetch(offset: Int64, partition: Int32 = 0, maxWaitMilliseconds: Int32 = 0) async throws -> FetchResponse.Partition {
            let request = FetchRequest.with {
                $0.maxWaitMilliseconds = maxWaitMilliseconds
                $0.minBytes = 1
                $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with { $0.index = partition; $0.fetchOffset = offset; $0.maxBytes = 1 << 20 }] }]
            }
            let response = try await call(request, version: 11, as: FetchResponse.self)
            return try #require(response.topics.first?.partitions.first)
        }
    }

    /// A client's batch: `count` records, sealed with `codec` in its attributes (the body is
    /// left uncompressed, so any codec id makes a batch with a valid CRC).
    static func clientBatch(count: Int, producerId: Int64 = -1, sequence: Int32 = -1, codec: Int16 = 0) throws -> ByteBuffer {
        var batch = RecordBatch()
        batch.producerId = producerId
        batch.producerEpoch = producerId >= 0 ? 0 : -1
        batch.baseSequence = sequence
        for index in 0..<count { try batch.append(Record(key: "key-\(index)", value: "value-\(index)")) }
        let header = batch.sealedHeader(appendTimeMilliseconds: 1_764_410_400_000, body: batch.recordBytes, codec: codec)
        var bytes = [UInt8](repeating: 0, count: BatchHeader.size)
        bytes.withUnsafeMutableBytes { header.store(to: $0.baseAddress!) }
        bytes += Array(batch.recordBytes)
        return ByteBuffer(bytes: bytes)
    }

    @Test func producedBatchIsFetchedBackByteForByteWithTheBrokersOffset() async throws {
        let fixture = try Fixture()
        _ = try await fixture.produce(try Self.clientBatch(count: 3))
        let sent = try Self.clientBatch(count: 2)
        let answer = try await fixture.produce(sent)
        #expect(answer.errorCode == 0)
        #expect(answer.baseOffset == 3)
        let fetched = try await fixture.fetch(offset: 3)
        #expect(fetched.highWatermark == 5)
        var stored = try #require(fetched.records)
        // Everything but the base offset (which the CRC does not cover) is the client's.
        #expect(stored.readInteger(as: Int64.self) == 3)
        #expect(stored.readableBytesView.elementsEqual(sent.readableBytesView.dropFirst(8)))
    }

    @Test func wrongProduceRequestsGetKafkaErrorCodes() async throws {
        let fixture = try Fixture()
        #expect(try await fixture.produce(try Self.clientBatch(count: 1), topic: "missing").errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(try await fixture.produce(try Self.clientBatch(count: 1), partition: 9).errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        var damaged = try Self.clientBatch(count: 1)
        damaged.setInteger(UInt8(0xAB), at: damaged.writerIndex - 1)
        #expect(try await fixture.produce(damaged).errorCode == KafkaErrorCode.corruptMessage.rawValue)
        #expect(try await fixture.produce(try Self.clientBatch(count: 1, codec: 1)).errorCode == KafkaErrorCode.unsupportedCompressionType.rawValue)
        #expect(try await fixture.produce(ByteBuffer(bytes: [1, 2, 3])).errorCode == KafkaErrorCode.corruptMessage.rawValue)
        #expect(try fixture.store.topic("orders").logEndOffset(partition: 0) == 0)
    }

    @Test func idempotentProducersAreCheckedBySequence() async throws {
        let fixture = try Fixture()
        let ids = try await fixture.call(InitProducerIdRequest(), version: 1, as: InitProducerIdResponse.self)
        #expect(ids.errorCode == 0 && ids.producerId > 0)
        let first = try Self.clientBatch(count: 2, producerId: ids.producerId, sequence: 0)
        #expect(try await fixture.produce(first).baseOffset == 0)
        // A retry is answered with the original's offset and not written again.
        let retry = try await fixture.produce(first)
        #expect(retry.errorCode == 0 && retry.baseOffset == 0)
        let gap = try await fixture.produce(try Self.clientBatch(count: 1, producerId: ids.producerId, sequence: 5))
        #expect(gap.errorCode == KafkaErrorCode.outOfOrderSequenceNumber.rawValue)
        #expect(try fixture.store.topic("orders").logEndOffset(partition: 0) == 2)
        let transactional = try await fixture.call(InitProducerIdRequest.with { $0.transactionalId = "tx" }, version: 1, as: InitProducerIdResponse.self)
        #expect(transactional.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
    }

    @Test func fetchPastTheEndIsOffsetOutOfRange() async throws {
        let fixture = try Fixture()
        #expect(try await fixture.fetch(offset: 10).errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
    }

    @Test func waitingFetchIsWokenByAnAppend() async throws {
        // A fetch may wait ten minutes here, twice the suite's time limit: only the append's
        // wake-up can answer it in time, however long a loaded machine keeps this task off the
        // CPU (a full parallel run on two cores has taken 40 s to answer a woken 30 s fetch).
        let maxWaitMilliseconds: Int64 = 600_000
        let fixture = try Fixture(maxFetchWaitMilliseconds: maxWaitMilliseconds)
        let started = ContinuousClock.now
        async let waiting = fixture.fetch(offset: 0, partition: 1, maxWaitMilliseconds: Int32(maxWaitMilliseconds))
        // The append lands while the fetch waits (or before it starts: then it answers at once).
        _ = try await fixture.store.topic("orders").append([Record(key: "k", value: "v")], partition: 1)
        let fetched = try await waiting
        #expect((fetched.records?.readableBytes ?? 0) > 0)
        #expect(ContinuousClock.now - started < .milliseconds(maxWaitMilliseconds))
    }

    @Test func aFetchWaitIsCappedAtKafkasLimit() async throws {
        let fixture = try Fixture(maxFetchWaitMilliseconds: 50)
        let started = ContinuousClock.now
        // Nothing is ever appended: the broker's cap, not the 24 days asked for, ends the wait
        // (a broken cap would run into the suite's time limit).
        let fetched = try await fixture.fetch(offset: 0, partition: 1, maxWaitMilliseconds: .max)
        #expect((fetched.records?.readableBytes ?? 0) == 0)
        #expect(ContinuousClock.now - started < .seconds(120))
    }

    @Test func unsupportedApiVersionsVersionIsAnsweredInVersionZero() async throws {
        let fixture = try Fixture()
        var frame = ByteBuffer()
        RequestHeader(apiKey: ApiKey.apiVersions.rawValue, apiVersion: 99, correlationId: 7, clientId: nil).encode(into: &frame)
        guard case .respond(var bytes) = try await fixture.broker.handle(frame, clientHost: "") else {
            Issue.record("no answer")
            return
        }
        _ = bytes.readInteger(as: Int32.self)
        #expect(try ResponseHeader.decode(from: &bytes, headerVersion: 0).correlationId == 7)
        let response = try ApiVersionsResponse.decode(from: &bytes, version: 0)
        #expect(response.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        #expect(response.apiKeys.contains { $0.apiKey == ApiKey.fetch.rawValue })
    }

    @Test func framesThatAreNotRequestsThrowInsteadOfAnswering() async throws {
        let fixture = try Fixture()
        await #expect(throws: KafkaCodecError.self) { _ = try await fixture.broker.handle(ByteBuffer(bytes: [0, 18, 0]), clientHost: "") }
        var unknown = ByteBuffer()
        RequestHeader(apiKey: 999, apiVersion: 0, correlationId: 1, clientId: nil).encode(into: &unknown)
        await #expect(throws: KafkaCodecError.unknownApiKey(999)) { _ = try await fixture.broker.handle(unknown, clientHost: "") }
    }

    @Test func groupRequestsFromStrangersGetGroupErrors() async throws {
        let fixture = try Fixture()
        let heartbeat = try await fixture.call(HeartbeatRequest.with { $0.groupId = "readers"; $0.memberId = "nobody"; $0.generationId = 1 }, version: 3, as: HeartbeatResponse.self)
        #expect(heartbeat.errorCode == KafkaErrorCode.unknownMemberId.rawValue)
        let join = try await fixture.call(
            JoinGroupRequest.with {
                $0.groupId = "readers"
                $0.sessionTimeoutMilliseconds = 10_000
                $0.protocolType = "consumer"
                $0.protocols = [.with { $0.name = "range" }]
            }, version: 5, as: JoinGroupResponse.self)
        #expect(join.errorCode == 0 && join.leader == join.memberId && join.generationId == 1)
        let stale = try await fixture.call(SyncGroupRequest.with { $0.groupId = "readers"; $0.memberId = join.memberId; $0.generationId = 0 }, version: 3, as: SyncGroupResponse.self)
        #expect(stale.errorCode == KafkaErrorCode.illegalGeneration.rawValue)
        let synced = try await fixture.call(
            SyncGroupRequest.with {
                $0.groupId = "readers"; $0.memberId = join.memberId; $0.generationId = 1
                $0.assignments = [.with { $0.memberId = join.memberId; $0.assignment = ByteBuffer(string: "mine") }]
            }, version: 3, as: SyncGroupResponse.self)
        #expect(synced.errorCode == 0 && synced.assignment == ByteBuffer(string: "mine"))
        let commit = try await fixture.call(
            OffsetCommitRequest.with {
                $0.groupId = "readers"; $0.memberId = join.memberId; $0.generationId = 1
                $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with { $0.index = 0; $0.committedOffset = 0 }] }]
            }, version: 7, as: OffsetCommitResponse.self)
        #expect(commit.topics.first?.partitions.first?.errorCode == 0)
        #expect(try fixture.store.group("readers").committedOffsets(topic: "orders") == [0: 0])
        await fixture.broker.groups.shutdown()
    }
}
