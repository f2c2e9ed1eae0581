import Logging
import NIOCore
import StreamStore
import StreamStoreFormat
import StreamStoreLog

/// What a connection does with one request's outcome. Answers leave in request order, as
/// Kafka clients expect; a produce request's answer may still wait for durability while the
/// next requests are read and written (``later``), so pipelined produce requests share fsyncs.
enum KafkaReply: Sendable {
    /// A whole response frame, length prefix included.
    case respond(ByteBuffer)
    /// A response frame still being made (nil: nothing to send, as for acks=0).
    case later(Task<ByteBuffer?, Never>)
    /// No response (produce with acks=0).
    case none
}

/// The broker: decodes a request frame, serves it from the store, encodes the response.
/// One per server; it keeps no per-connection state, so requests of every connection run
/// through it concurrently.
final class KafkaBroker: Sendable {
    let store: Store
    let configuration: KafkaServerConfiguration
    let groups: KafkaGroupCoordinator
    /// Where clients are told to connect, once the server is bound.
    let advertised = Locked<(host: String, port: Int32)>(("127.0.0.1", 9092))
    /// The longest a fetch waits for data, whatever its `max_wait_ms` asks (30 s by default,
    /// `Limits.kafkaMaxFetchWaitMilliseconds`); tests raise it so that only a wake-up, never a
    /// timeout, can answer a waiting fetch.
    let maxFetchWaitMilliseconds: Int64
    /// Fetch responses' memory, reused (see ``ResponseBuffers``).
    let responseBuffers = ResponseBuffers()
    var logger: Logger { configuration.logger }

    init(
        store: Store, configuration: KafkaServerConfiguration, maxFetchWaitMilliseconds: Int64 = Limits.kafkaMaxFetchWaitMilliseconds
    ) throws(StreamStoreError) {
        self.store = store
        self.configuration = configuration
        self.maxFetchWaitMilliseconds = maxFetchWaitMilliseconds
        self.groups = KafkaGroupCoordinator(configuration: configuration)
    }

    /// Serves one request frame (the bytes after the length prefix). Throws only for a frame
    /// that cannot be answered at all (garbage, an unknown API, an unsupported version of an
    /// API other than ApiVersions): the caller closes the connection.
    func handle(_ frame: ByteBuffer, clientHost: String) async throws(KafkaCodecError) -> KafkaReply {
        var body = frame
        let header = try RequestHeader.decode(from: &body)
        guard let key = ApiKey(rawValue: header.apiKey) else { throw .unknownApiKey(header.apiKey) }
        guard let versions = key.supportedVersions, versions.contains(header.apiVersion) else {
            if key == .apiVersions {
                // Kafka's rule: answer in v0 with UNSUPPORTED_VERSION and the versions served,
                // so the client can retry with one of them.
                var refused = header
                refused.apiVersion = 0
                return .respond(Self.frame(ApiVersionsResponse.served(errorCode: .unsupportedVersion), to: refused))
            }
            throw .unsupportedVersion(apiKey: header.apiKey, version: header.apiVersion)
        }
        let version = header.apiVersion
        switch key {
        case .apiVersions:
            _ = try ApiVersionsRequest.decode(from: &body, version: version)
            return .respond(Self.frame(ApiVersionsResponse.served(), to: header))
        case .metadata:
            return .respond(Self.frame(metadata(try .decode(from: &body, version: version), version: version), to: header))
        case .createTopics:
            return .respond(Self.frame(createTopics(try .decode(from: &body, version: version)), to: header))
        case .deleteTopics:
            return .respond(Self.frame(deleteTopics(try .decode(from: &body, version: version)), to: header))
        case .produce:
            return await produce(try .decode(from: &body, version: version), header: header)
        case .fetch:
            return .respond(await fetch(try .decode(from: &body, version: version), header: header))
        case .listOffsets:
            return .respond(Self.frame(listOffsets(try .decode(from: &body, version: version)), to: header))
        case .initProducerId:
            return .respond(Self.frame(initProducerId(try .decode(from: &body, version: version)), to: header))
        case .findCoordinator:
            return .respond(Self.frame(findCoordinator(try .decode(from: &body, version: version)), to: header))
        case .joinGroup:
            let request = try JoinGroupRequest.decode(from: &body, version: version)
            let response = await groups.join(request, clientId: header.clientId ?? "", clientHost: clientHost)
            return .respond(Self.frame(response, to: header))
        case .syncGroup:
            return .respond(Self.frame(await groups.sync(try .decode(from: &body, version: version)), to: header))
        case .heartbeat:
            return .respond(Self.frame(await groups.heartbeat(try .decode(from: &body, version: version)), to: header))
        case .leaveGroup:
            return .respond(Self.frame(await groups.leave(try .decode(from: &body, version: version)), to: header))
        case .offsetCommit:
            return .respond(Self.frame(await offsetCommit(try .decode(from: &body, version: version)), to: header))
        case .offsetFetch:
            return .respond(Self.frame(offsetFetch(try .decode(from: &body, version: version)), to: header))
        case .listGroups:
            _ = try ListGroupsRequest.decode(from: &body, version: version)
            return .respond(Self.frame(await listGroups(), to: header))
        case .describeGroups:
            return .respond(Self.frame(await describeGroups(try .decode(from: &body, version: version)), to: header))
        case .saslHandshake:
            // Reached once a connection has authenticated, or when the server has no SASL at
            // all: Kafka's answer in both cases (this server does not re-authenticate).
            _ = try SaslHandshakeRequest.decode(from: &body, version: version)
            var refusal = SaslHandshakeResponse()
            refusal.errorCode = KafkaErrorCode.illegalSaslState.rawValue
            return .respond(Self.frame(refusal, to: header))
        case .saslAuthenticate:
            _ = try SaslAuthenticateRequest.decode(from: &body, version: version)
            var refusal = SaslAuthenticateResponse()
            refusal.errorCode = KafkaErrorCode.illegalSaslState.rawValue
            refusal.errorMessage = "SaslAuthenticate request received after successful authentication, or without SASL configured."
            return .respond(Self.frame(refusal, to: header))
        case .describeConfigs:
            return .respond(Self.frame(describeConfigs(try .decode(from: &body, version: version)), to: header))
        case .describeCluster:
            return .respond(Self.frame(describeCluster(try .decode(from: &body, version: version)), to: header))
        case .addPartitionsToTxn, .addOffsetsToTxn, .endTxn, .txnOffsetCommit:
            throw .unsupportedVersion(apiKey: header.apiKey, version: header.apiVersion)
        }
    }

    /// A response frame: length prefix, response header, body.
    static func frame<Message: KafkaMessage>(_ message: Message, to header: RequestHeader) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(0))
        ResponseHeader(correlationId: header.correlationId)
            .encode(into: &buffer, headerVersion: Message.apiKey.responseHeaderVersion(header.apiVersion))
        message.encode(into: &buffer, version: header.apiVersion)
        buffer.setInteger(Int32(buffer.readableBytes - 4), at: 0)
        KafkaServerMetrics.shared.answered(apiKey: header.apiKey, errorCode: (message as? any KafkaErrorReporting)?.firstErrorCode ?? 0)
        return buffer
    }

    /// The topic, or the Kafka error that says why not.
    func topic(_ name: String) -> Result<Topic, KafkaErrorCode> {
        do throws(StreamStoreError) {
            return .success(try store.topic(name))
        } catch {
            return .failure(KafkaErrorCode(error))
        }
    }

    /// The partition of `topic`, or UNKNOWN_TOPIC_OR_PARTITION.
    func partition(_ topic: Topic, _ index: Int32) -> Result<Partition, KafkaErrorCode> {
        do throws(StreamStoreError) {
            return .success(try topic.partition(Int(index)))
        } catch {
            return .failure(KafkaErrorCode(error))
        }
    }
}
