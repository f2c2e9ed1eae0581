import Foundation
import FuzzSupport
import NIOCore
import StreamStore
@_spi(Fuzzing) import StreamStoreKafka

/// A store with the topics the seeds use ("orders" and "events", 2 partitions each), and a
/// fresh broker for every input, so group state never carries from one input to the next (a
/// member left by one input would make the next JoinGroup wait for its rebalance). The store is
/// made again every ``inputsPerStore`` inputs, so what produce requests and commits add stays small.
final class KafkaFixture {
    static let inputsPerStore = 2_000
    /// CreateTopics asking for more partitions is only decoded: creating thousands of partitions
    /// per input would only slow the run.
    static let maxCreatedPartitions: Int32 = 16

    private let folder = ScratchFolder.make(for: "kafka-request")
    private var store: Store?
    private var inputs = 0
    private var generation = 0

    /// Serves `frame` with a new broker, as one connection's only request.
    func serve(_ frame: ByteBuffer) -> KafkaFuzzEntryPoints.Outcome {
        let store = currentStore()
        do throws(StreamStoreError) {
            return try runBlocking { () async throws(StreamStoreError) -> KafkaFuzzEntryPoints.Outcome in
                let broker = try KafkaFuzzEntryPoints.Broker(store: store)
                let outcome = await broker.handle(frame)
                await broker.shutdown()
                return outcome
            }
        } catch {
            fatalError("the fuzz broker could not start: \(error)")
        }
    }

    /// The frame to serve for a request that decoded (KafkaFuzzEntryPoints.servable), or nil.
    static func servable(header: RequestHeader, body: ByteBuffer) -> ByteBuffer? {
        KafkaFuzzEntryPoints.servable(body, header: header, maxCreatedPartitions: maxCreatedPartitions)
    }

    private func currentStore() -> Store {
        inputs += 1
        if let store, inputs <= Self.inputsPerStore { return store }
        try? store?.close()
        inputs = 1
        generation += 1
        let path = "\(folder)/store-\(generation)"
        try? FileManager.default.removeItem(atPath: "\(folder)/store-\(generation - 1)")
        do {
            let opened = try Store.open(at: path)
            for name in ["orders", "events"] { _ = try opened.createTopic(name, config: TopicConfig(partitionCount: 2)) }
            store = opened
            return opened
        } catch {
            fatalError("cannot open the fuzz store at \(path): \(error)")
        }
    }
}
