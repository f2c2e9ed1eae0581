import NIOCore
import Testing

@_spi(Fuzzing) @testable import StreamStoreKafka

/// The Kafka wire codec: every message at every served version survives a round trip byte for
/// byte, every truncation is a typed error, and the framing refuses what it must.
struct KafkaCodecTests {
    static let allSamples = KafkaMessageSamples.requests + KafkaMessageSamples.responses

    @Test(arguments: allSamples)
    func everyServedVersionRoundTripsByteForByte(_ sample: KafkaMessageSamples.Sample) throws {
        for version in sample.versions {
            let encoded = sample.encode(version)
            let again = try sample.decodeAndReencode(encoded, version)
            #expect(again == encoded, "\(sample) v\(version) changed in a round trip")
        }
    }

    @Test(arguments: allSamples)
    func everyTruncationIsATypedError(_ sample: KafkaMessageSamples.Sample) {
        for version in sample.versions {
            let encoded = sample.encode(version)
            for length in 0..<encoded.readableBytes {
                let prefix = encoded.getSlice(at: encoded.readerIndex, length: length) ?? ByteBuffer()
                #expect(throws: KafkaCodecError.self, "\(sample) v\(version) decoded from \(length) of \(encoded.readableBytes) bytes") {
                    _ = try sample.decodeAndReencode(prefix, version)
                }
            }
        }
    }

    @Test func flexibleVersionsUseCompactStringsAndTaggedFields() throws {
        var request = ApiVersionsRequest()
        request.clientSoftwareName = "ab"
        request.clientSoftwareVersion = ""
        var buffer = ByteBuffer()
        request.encode(into: &buffer, version: 3)
        // Compact strings are length + 1 as an unsigned varint; the body ends with no tags.
        #expect(Array(buffer.readableBytesView) == [3, 0x61, 0x62, 1, 0])
    }

    @Test func apiVersionsAnswersWithResponseHeaderZeroEvenWhenFlexible() {
        #expect(ApiKey.apiVersions.responseHeaderVersion(3) == 0)
        #expect(ApiKey.apiVersions.requestHeaderVersion(3) == 2)
        #expect(ApiKey.metadata.responseHeaderVersion(8) == 0)
        #expect(ApiKey.metadata.responseHeaderVersion(9) == 1)
    }

    @Test func requestHeaderRoundTripsInBothVersions() throws {
        for version: Int16 in [0, 3] {
            let header = RequestHeader(apiKey: ApiKey.apiVersions.rawValue, apiVersion: version, correlationId: 42, clientId: "rdkafka")
            var buffer = ByteBuffer()
            header.encode(into: &buffer)
            var reading = buffer
            #expect(try RequestHeader.decode(from: &reading) == header)
            #expect(reading.readableBytes == 0)
        }
    }

    @Test func countsLargerThanTheFrameAreRefusedBeforeAllocating() {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32.max)
        #expect(throws: KafkaCodecError.self) { _ = try DeleteTopicsRequest.decode(from: &buffer, version: 0) }
        var negative = ByteBuffer()
        negative.writeInteger(Int32(-5))
        #expect(throws: KafkaCodecError.invalidLength(field: "array", length: -5)) { _ = try DeleteTopicsRequest.decode(from: &negative, version: 0) }
    }

    @Test func overlongVarintsAreRefused() {
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: KafkaCodecError.invalidVarint(field: "string")) { _ = try ApiVersionsRequest.decode(from: &buffer, version: 3) }
    }

    @Test func randomBytesNeverTrapAnyDecoder() {
        var generator = SystemRandomNumberGenerator()
        for sample in KafkaMessageSamples.requests {
            for version in sample.versions {
                for _ in 0..<50 {
                    let count = Int.random(in: 0..<64, using: &generator)
                    let bytes = ByteBuffer(bytes: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
                    _ = try? sample.decodeAndReencode(bytes, version)
                }
            }
        }
    }
}
