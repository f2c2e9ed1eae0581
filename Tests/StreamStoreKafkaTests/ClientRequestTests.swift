import Foundation
import NIOCore
import Testing

@testable import StreamStore
@_spi(Fuzzing) @testable import StreamStoreKafka

/// The requests real clients sent (kafka-python, librdkafka, kcat; captured by
/// tools/kafka-clients/capture.py, and the seeds of the `kafka-request` fuzz target): each
/// decodes, encodes back to the same bytes, and is answered, never refused.
@Suite struct ClientRequestTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("ClientRequests")

    static let names: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".bin") }.sorted()
    }()

    @Test func everyClientAndMostApisAreCaptured() {
        #expect(Self.names.count >= 25)
        for client in ["kafka-python", "librdkafka", "kcat"] { #expect(Self.names.contains { $0.hasPrefix(client + "-") }) }
    }

    @Test(arguments: names)
    func capturedRequestDecodesAndEncodesToTheSameBytes(_ name: String) throws {
        let bytes = try Data(contentsOf: Self.folder.appendingPathComponent(name))
        var body = ByteBuffer(bytes: bytes)
        let header = try RequestHeader.decode(from: &body)
        guard let roundTrip = try KafkaFuzzEntryPoints.requestRoundTrip(body, header: header) else {
            // kafka-python's first ApiVersions asks for a version newer than served.
            #expect(header.apiKey == ApiKey.apiVersions.rawValue)
            return
        }
        #expect(roundTrip.consumedBytes == body.readableBytes)
        #expect(roundTrip.decodesEqual)
        #expect(roundTrip.encoded.readableBytesView.elementsEqual(body.readableBytesView))
    }

    @Test func everyCapturedRequestIsAnsweredWithItsCorrelationId() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-kafka-\(UUID().uuidString)").path
        let store = try Store.open(at: path)
        defer {
            try? store.close()
            try? FileManager.default.removeItem(atPath: path)
        }
        for topic in ["orders", "events"] { _ = try store.createTopic(topic, config: TopicConfig(partitionCount: 2)) }
        for name in Self.names {
            var frame = ByteBuffer(bytes: try Data(contentsOf: Self.folder.appendingPathComponent(name)))
            let header = try RequestHeader.decode(from: &frame)
            frame.moveReaderIndex(to: 0)
            let broker = try KafkaFuzzEntryPoints.Broker(store: store)
            let outcome = await broker.handle(frame)
            await broker.shutdown()
            guard case .response(var response) = outcome else {
                Issue.record("\(name): \(outcome)")
                continue
            }
            #expect(response.readInteger(as: Int32.self) == Int32(response.readableBytes))
            #expect(response.readInteger(as: Int32.self) == header.correlationId, "\(name)")
        }
    }
}
