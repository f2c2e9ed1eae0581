import Foundation
import NIOCore
import StreamStore
import Testing

@_spi(Fuzzing) @testable import StreamStoreKafka

/// The committed corpus of the `kafka-request` fuzz target (`Fuzz/Corpus/kafka-request`), each
/// input run once through the target's checks (Fuzz/Sources/FuzzKafkaRequest), without fuzzing:
/// a request that decodes encodes again to bytes that decode equal, and the broker answers
/// exactly the frames it serves, with one whole response of the request's correlation id.
@Suite(.timeLimit(.minutes(5))) struct KafkaFuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/Corpus/kafka-request").standardized
    /// Enough to replay the whole committed corpus; a larger one is sampled, to stay quick.
    static let maxInputs = 64

    @Test func everyCommittedInputPassesTheTargetsChecks() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(!names.isEmpty, "no corpus at \(Self.corpus.path)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-corpus-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try Store.open(at: folder)
        defer { try? store.close() }
        for name in ["orders", "events"] { _ = try store.createTopic(name, config: TopicConfig(partitionCount: 2)) }
        var answered = 0
        for name in names.prefix(Self.maxInputs) {
            let bytes = try Data(contentsOf: Self.corpus.appendingPathComponent(name))
            if try await replay(ByteBuffer(bytes: bytes), store: store, input: name) { answered += 1 }
        }
        #expect(answered > 0, "no input of the corpus was answered: the replay checked nothing")
    }

    /// One input; true when the broker answered it.
    private func replay(_ frame: ByteBuffer, store: Store, input: String) async throws -> Bool {
        var body = frame
        guard let header = try? RequestHeader.decode(from: &body) else {
            let outcome = try await serve(frame, store: store)
            if case .closed = outcome { return false }
            Issue.record("\(input): a frame without a whole header was answered")
            return false
        }
        let served: Bool
        var toServe = frame
        do throws(KafkaCodecError) {
            if let roundTrip = try KafkaFuzzEntryPoints.requestRoundTrip(body, header: header) {
                #expect(roundTrip.decodesEqual, "\(input): a decoded request, encoded again, decodes differently")
                #expect(roundTrip.encoded == roundTrip.encodedAgain, "\(input): encoding is not stable")
                #expect(roundTrip.consumedBytes <= body.readableBytes, "\(input): the decoder read past the body")
                served = true
                guard let adjusted = KafkaFuzzEntryPoints.servable(body, header: header, maxCreatedPartitions: 16) else { return false }
                toServe = adjusted
            } else {
                served = header.apiKey == ApiKey.apiVersions.rawValue
            }
        } catch {
            served = false
        }
        switch try await serve(toServe, store: store) {
        case .closed(let error):
            #expect(!served, "\(input): a request that decodes closed its connection (\(error))")
            return false
        case .noResponse:
            #expect(served && header.apiKey == ApiKey.produce.rawValue, "\(input): no answer to a request other than produce with acks=0")
            return false
        case .response(var response):
            #expect(served, "\(input): a request that does not decode was answered")
            check(response: &response, to: header, input: input)
            return true
        }
    }

    /// A fresh broker per input, as the target runs them, so no group state carries over.
    private func serve(_ frame: ByteBuffer, store: Store) async throws -> KafkaFuzzEntryPoints.Outcome {
        let broker = try KafkaFuzzEntryPoints.Broker(store: store)
        let outcome = await broker.handle(frame)
        await broker.shutdown()
        return outcome
    }

    private func check(response: inout ByteBuffer, to header: RequestHeader, input: String) {
        guard let length = response.readInteger(as: Int32.self) else {
            Issue.record("\(input): an empty response frame")
            return
        }
        #expect(Int(length) == response.readableBytes, "\(input): response length prefix \(length), frame \(response.readableBytes) bytes")
        guard let key = ApiKey(rawValue: header.apiKey) else {
            Issue.record("\(input): an unknown API key was answered")
            return
        }
        let version = key.supportedVersions?.contains(header.apiVersion) == true ? header.apiVersion : 0
        do throws(KafkaCodecError) {
            let responseHeader = try ResponseHeader.decode(from: &response, headerVersion: key.responseHeaderVersion(version))
            #expect(responseHeader.correlationId == header.correlationId, "\(input): answered with correlation id \(responseHeader.correlationId)")
            guard let roundTrip = try KafkaFuzzEntryPoints.responseRoundTrip(response, key: key, version: version) else {
                Issue.record("\(input): \(key) has no response type")
                return
            }
            #expect(roundTrip.consumedBytes == response.readableBytes, "\(input): bytes left after the response")
            #expect(roundTrip.decodesEqual, "\(input): the response does not decode back the same")
        } catch {
            Issue.record("\(input): the response does not decode: \(error)")
        }
    }
}
