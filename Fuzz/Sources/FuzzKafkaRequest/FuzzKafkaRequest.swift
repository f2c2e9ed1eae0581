import FuzzSupport
import NIOCore
@_spi(Fuzzing) import StreamStoreKafka

// libFuzzer target: the Kafka server's request decoder and the broker behind it.
//
// Input: one request frame as a connection reads it, after its 4-byte length prefix (the frame
// splitter's own checks, 8 bytes to 100 MiB, are covered by the client checks). The frame is
// decoded as the broker decodes it and served by a broker on a real store (KafkaFixture).
//
// Invariants: nothing traps; a body that decodes, encoded again, decodes to an equal message
// and encodes to the same bytes; the broker closes the connection exactly when the frame is
// not a request it serves (the header or body does not decode, or the API or version is not
// served, except ApiVersions, which always answers); every answer is one whole frame with the
// request's correlation id whose body decodes completely as the API's response; only a produce
// request with acks=0 goes unanswered.

nonisolated(unsafe) private let fixture = KafkaFixture()

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    SeedCorpus.writeIfRequested { KafkaRequestSeeds.make() }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKafkaRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let frame = ByteBuffer(bytes: UnsafeRawBufferPointer(start: data, count: size))
    var body = frame
    guard let header = try? RequestHeader.decode(from: &body) else {
        // Not even a header: the broker must refuse it.
        if case .closed = fixture.serve(frame) { return 0 }
        fatalError("fuzz invariant broken: a frame without a whole header was answered")
    }
    let served: Bool
    var toServe = frame
    do throws(KafkaCodecError) {
        if let roundTrip = try KafkaFuzzEntryPoints.requestRoundTrip(body, header: header) {
            require(roundTrip.decodesEqual, "\(header): a decoded request, encoded again, decodes differently")
            require(roundTrip.encoded == roundTrip.encodedAgain, "\(header): encoding is not stable")
            require(roundTrip.consumedBytes <= body.readableBytes, "\(header): the decoder read past the body")
            served = true
            guard let adjusted = KafkaFixture.servable(header: header, body: body) else { return 0 }
            toServe = adjusted
        } else {
            served = header.apiKey == ApiKey.apiVersions.rawValue
        }
    } catch {
        served = false
    }
    switch fixture.serve(toServe) {
    case .closed(let error):
        require(!served, "\(header): a request that decodes closed its connection (\(error))")
    case .noResponse:
        require(served && header.apiKey == ApiKey.produce.rawValue, "\(header): no answer to a request other than produce with acks=0")
    case .response(var response):
        require(served, "\(header): a request that does not decode was answered")
        check(response: &response, to: header)
    }
    return 0
}

/// One whole frame for `header`'s correlation id, whose body decodes as the API's response.
private func check(response: inout ByteBuffer, to header: RequestHeader) {
    guard let length = response.readInteger(as: Int32.self) else { fatalError("fuzz invariant broken: an empty response frame") }
    require(Int(length) == response.readableBytes, "\(header): response length prefix \(length), frame \(response.readableBytes) bytes")
    guard let key = ApiKey(rawValue: header.apiKey) else { fatalError("fuzz invariant broken: an unknown API key was answered") }
    // An ApiVersions request of a version not served is answered in v0 (Kafka's rule).
    let version = key.supportedVersions?.contains(header.apiVersion) == true ? header.apiVersion : 0
    let responseHeader: ResponseHeader
    do throws(KafkaCodecError) {
        responseHeader = try ResponseHeader.decode(from: &response, headerVersion: key.responseHeaderVersion(version))
        require(responseHeader.correlationId == header.correlationId, "\(header): answered with correlation id \(responseHeader.correlationId)")
        guard let roundTrip = try KafkaFuzzEntryPoints.responseRoundTrip(response, key: key, version: version) else {
            fatalError("fuzz invariant broken: \(key) has no response type")
        }
        require(roundTrip.consumedBytes == response.readableBytes, "\(header): \(response.readableBytes - roundTrip.consumedBytes) bytes after the response")
        require(roundTrip.decodesEqual, "\(header): the response does not decode back the same")
    } catch {
        fatalError("fuzz invariant broken: \(header): the response does not decode: \(error)")
    }
}
