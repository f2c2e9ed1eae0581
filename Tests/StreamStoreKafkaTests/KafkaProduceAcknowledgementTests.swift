import Foundation
import NIOCore
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@_spi(Fuzzing) @testable import StreamStoreKafka
@testable import StreamStoreLog

/// A Produce request whose partitions fare differently is answered per partition: each written
/// and durable one with its base offset, each other with its error code and no offset, and the
/// log holds exactly the batches answered with an offset.
@Suite(.timeLimit(.minutes(2))) struct KafkaProduceAcknowledgementTests {
    private func produceToBothPartitions(_ fixture: KafkaBrokerTests.Fixture) async throws -> [ProduceResponse.Partition] {
        let (three, two) = (try KafkaBrokerTests.clientBatch(count: 3), try KafkaBrokerTests.clientBatch(count: 2))
        let request = ProduceRequest.with {
            $0.acks = -1
            $0.topics = [.with {
                $0.name = "orders"
                $0.partitions = [.with { $0.index = 0; $0.records = three }, .with { $0.index = 1; $0.records = two }]
            }]
        }
        let response = try await fixture.call(request, version: 8, as: ProduceResponse.self)
        return try #require(response.topics.first?.partitions)
    }

    @Test(arguments: [FailingFileSystem.Operation.write, .fdatasync])
    func aPartitionThatFailsIsAnsweredWithItsErrorAndTheOtherWithItsOffset(failing operation: FailingFileSystem.Operation) async throws {
        let fileSystem = FailingFileSystem()
        let fixture = try KafkaBrokerTests.Fixture(fileSystem: fileSystem)
        fileSystem.fail(operation, errno: ENOSPC, pathContaining: "orders/1/")
        let answers = try await produceToBothPartitions(fixture)
        #expect(answers.map(\.index) == [0, 1])
        #expect(answers[0].errorCode == 0)
        #expect(answers[0].baseOffset == 0)
        #expect(answers[1].errorCode == KafkaErrorCode.kafkaStorageError.rawValue)
        #expect(answers[1].baseOffset == -1, "nothing is claimed for the partition that failed")
        #expect(answers[1].errorMessage?.isEmpty == false)
        let orders = try fixture.store.topic("orders")
        #expect(try orders.logEndOffset(partition: 0) == 3)
        if operation == .write {
            #expect(try orders.logEndOffset(partition: 1) == 0, "the failed write left nothing in the log")
        }
    }
}
