import NIOCore
import StreamStore

/// Doors into the broker for the libFuzzer target `kafka-request` in `Fuzz/` (a package of its
/// own, hence public, but behind `@_spi(Fuzzing)` so no application sees them). Each door runs
/// the code a connection runs, so the target exercises the real path and nothing written for it.
@_spi(Fuzzing)
public enum KafkaFuzzEntryPoints {
    /// What the broker did with one request frame.
    public enum Outcome: Sendable {
        /// The frame is not a request this broker serves: its connection would be closed.
        case closed(KafkaCodecError)
        /// A whole response frame, length prefix included.
        case response(ByteBuffer)
        /// No answer (produce with acks=0).
        case noResponse
    }

    /// A broker on `store`, as ``KafkaServer`` makes one, without the network: groups complete
    /// their first rebalance at once, and Metadata creates no topics.
    public final class Broker: Sendable {
        private let broker: KafkaBroker

        /// A broker on `store` with the settings above.
        public init(store: Store) throws(StreamStoreError) {
            let configuration = KafkaServerConfiguration(autoCreateTopics: false, initialRebalanceDelayMilliseconds: 0)
            broker = try KafkaBroker(store: store, configuration: configuration)
        }

        /// Serves one request frame (the bytes after the length prefix) as a connection would.
        public func handle(_ frame: ByteBuffer) async -> Outcome {
            let reply: KafkaReply
            do throws(KafkaCodecError) {
                reply = try await broker.handle(frame, clientHost: "127.0.0.1")
            } catch {
                return .closed(error)
            }
            switch reply {
            case .respond(let response): return .response(response)
            case .later(let task): return await task.value.map(Outcome.response) ?? .noResponse
            case .none: return .noResponse
            }
        }

        /// Ends the group coordinator's timers and answers its waiting requests.
        public func shutdown() async { await broker.groups.shutdown() }
    }

    /// The frame to serve for a request whose body decoded, or nil to only decode it: a fetch
    /// waits for nothing (a long poll would only time the input out), and CreateTopics asking
    /// for more than `maxCreatedPartitions` partitions in a topic is not served (creating
    /// thousands of partitions per input would only slow a run).
    public static func servable(_ body: ByteBuffer, header: RequestHeader, maxCreatedPartitions: Int32) -> ByteBuffer? {
        var rest = body
        var frame = ByteBuffer()
        header.encode(into: &frame)
        switch ApiKey(rawValue: header.apiKey) {
        case .fetch:
            guard var request = try? FetchRequest.decode(from: &rest, version: header.apiVersion) else { return nil }
            request.maxWaitMilliseconds = 0
            request.encode(into: &frame, version: header.apiVersion)
        case .createTopics:
            guard let request = try? CreateTopicsRequest.decode(from: &rest, version: header.apiVersion),
                request.topics.allSatisfy({ $0.numPartitions <= maxCreatedPartitions })
            else { return nil }
            frame.writeImmutableBuffer(body)
        default:
            frame.writeImmutableBuffer(body)
        }
        return frame
    }

    /// A message decoded, encoded again, and decoded once more.
    public struct RoundTrip: Sendable {
        /// The bytes of the body the first decoding consumed.
        public var consumedBytes: Int
        /// The decoded message, encoded.
        public var encoded: ByteBuffer
        /// Whether decoding `encoded` consumed all of it and gave back an equal message.
        public var decodesEqual: Bool
        /// That second message, encoded (equal to `encoded` when the encoding is canonical).
        public var encodedAgain: ByteBuffer
    }

    /// Decodes `body` as the request of `header`'s API and version, the way the broker does, and
    /// encodes it again. Nil when the broker does not serve that API and version.
    public static func requestRoundTrip(_ body: ByteBuffer, header: RequestHeader) throws(KafkaCodecError) -> RoundTrip? {
        guard let key = ApiKey(rawValue: header.apiKey), key.supportedVersions?.contains(header.apiVersion) == true,
            let type = key.requestType
        else { return nil }
        return try roundTrip(type, body, version: header.apiVersion)
    }

    /// Decodes `body` (a response frame after its length prefix and response header) as the
    /// response of `key` at `version`, and encodes it again.
    public static func responseRoundTrip(_ body: ByteBuffer, key: ApiKey, version: Int16) throws(KafkaCodecError) -> RoundTrip? {
        guard let type = key.responseType else { return nil }
        return try roundTrip(type, body, version: version)
    }

    private static func roundTrip<Message: KafkaMessage>(_: Message.Type, _ body: ByteBuffer, version: Int16) throws(KafkaCodecError) -> RoundTrip {
        var input = body
        let first = try Message.decode(from: &input, version: version)
        var encoded = ByteBuffer()
        first.encode(into: &encoded, version: version)
        var again = encoded
        let second = try? Message.decode(from: &again, version: version)
        var encodedAgain = ByteBuffer()
        second?.encode(into: &encodedAgain, version: version)
        return RoundTrip(
            consumedBytes: body.readableBytes - input.readableBytes, encoded: encoded,
            decodesEqual: second == first && again.readableBytes == 0, encodedAgain: encodedAgain)
    }
}

extension ApiKey {
    /// The request message of this API; nil for the APIs only known to be refused.
    fileprivate var requestType: (any KafkaMessage.Type)? {
        switch self {
        case .produce: return ProduceRequest.self
        case .fetch: return FetchRequest.self
        case .listOffsets: return ListOffsetsRequest.self
        case .metadata: return MetadataRequest.self
        case .offsetCommit: return OffsetCommitRequest.self
        case .offsetFetch: return OffsetFetchRequest.self
        case .findCoordinator: return FindCoordinatorRequest.self
        case .joinGroup: return JoinGroupRequest.self
        case .heartbeat: return HeartbeatRequest.self
        case .leaveGroup: return LeaveGroupRequest.self
        case .syncGroup: return SyncGroupRequest.self
        case .describeGroups: return DescribeGroupsRequest.self
        case .listGroups: return ListGroupsRequest.self
        case .apiVersions: return ApiVersionsRequest.self
        case .createTopics: return CreateTopicsRequest.self
        case .deleteTopics: return DeleteTopicsRequest.self
        case .initProducerId: return InitProducerIdRequest.self
        case .saslHandshake: return SaslHandshakeRequest.self
        case .saslAuthenticate: return SaslAuthenticateRequest.self
        case .describeConfigs: return DescribeConfigsRequest.self
        case .describeCluster: return DescribeClusterRequest.self
        case .addPartitionsToTxn, .addOffsetsToTxn, .endTxn, .txnOffsetCommit: return nil
        }
    }

    /// The response message of this API; nil for the APIs only known to be refused.
    fileprivate var responseType: (any KafkaMessage.Type)? {
        switch self {
        case .produce: return ProduceResponse.self
        case .fetch: return FetchResponse.self
        case .listOffsets: return ListOffsetsResponse.self
        case .metadata: return MetadataResponse.self
        case .offsetCommit: return OffsetCommitResponse.self
        case .offsetFetch: return OffsetFetchResponse.self
        case .findCoordinator: return FindCoordinatorResponse.self
        case .joinGroup: return JoinGroupResponse.self
        case .heartbeat: return HeartbeatResponse.self
        case .leaveGroup: return LeaveGroupResponse.self
        case .syncGroup: return SyncGroupResponse.self
        case .describeGroups: return DescribeGroupsResponse.self
        case .listGroups: return ListGroupsResponse.self
        case .apiVersions: return ApiVersionsResponse.self
        case .createTopics: return CreateTopicsResponse.self
        case .deleteTopics: return DeleteTopicsResponse.self
        case .initProducerId: return InitProducerIdResponse.self
        case .saslHandshake: return SaslHandshakeResponse.self
        case .saslAuthenticate: return SaslAuthenticateResponse.self
        case .describeConfigs: return DescribeConfigsResponse.self
        case .describeCluster: return DescribeClusterResponse.self
        case .addPartitionsToTxn, .addOffsetsToTxn, .endTxn, .txnOffsetCommit: return nil
        }
    }
}
