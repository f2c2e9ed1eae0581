import NIOCore

@_spi(Fuzzing) @testable import StreamStoreKafka

/// One populated value of every message, every field set to something other than its
/// default, so a round trip that dropped or misplaced a field would show.
enum KafkaMessageSamples {
    /// A type-erased message: encodes at a version, decodes what it encoded.
    struct Sample: CustomStringConvertible, Sendable {
        let name: String
        let versions: ClosedRange<Int16>
        let encode: @Sendable (Int16) -> ByteBuffer
        let decodeAndReencode: @Sendable (ByteBuffer, Int16) throws(KafkaCodecError) -> ByteBuffer
        var description: String { name }
    }

    static func sample<Message: KafkaMessage>(_ message: Message) -> Sample {
        Sample(
            name: "\(Message.self)", versions: Message.apiKey.supportedVersions ?? 0...0,
            encode: { version in
                var buffer = ByteBuffer()
                message.encode(into: &buffer, version: version)
                return buffer
            },
            decodeAndReencode: { (bytes, version) throws(KafkaCodecError) -> ByteBuffer in
                var input = bytes
                let decoded = try Message.decode(from: &input, version: version)
                guard input.readableBytes == 0 else { throw .invalidLength(field: "trailing bytes", length: Int64(input.readableBytes)) }
                var output = ByteBuffer()
                decoded.encode(into: &output, version: version)
                return output
            })
    }

    static func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static let requests: [Sample] = [
        sample(ApiVersionsRequest.with { $0.clientSoftwareName = "librdkafka"; $0.clientSoftwareVersion = "2.16.0" }),
        sample(MetadataRequest.with {
            $0.topics = [.with { $0.name = "orders" }, .with { $0.name = "events" }]
            $0.allowAutoTopicCreation = false
            $0.includeTopicAuthorizedOperations = true
        }),
        sample(ProduceRequest.with {
            $0.transactionalId = nil
            $0.acks = -1
            $0.timeoutMilliseconds = 1500
            $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with { $0.index = 3; $0.records = bytes("batch bytes") }] }]
        }),
        sample(FetchRequest.with {
            $0.maxWaitMilliseconds = 500
            $0.minBytes = 1
            $0.maxBytes = 52_428_800
            $0.isolationLevel = 1
            $0.sessionId = 0
            $0.sessionEpoch = -1
            $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with { $0.index = 2; $0.fetchOffset = 77; $0.maxBytes = 1_048_576; $0.currentLeaderEpoch = 4 }] }]
            $0.forgottenTopics = [.with { $0.name = "old"; $0.partitions = [1, 2] }]
            $0.rackId = "rack-a"
        }),
        sample(ListOffsetsRequest.with {
            $0.isolationLevel = 1
            $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with { $0.index = 1; $0.timestamp = -2; $0.currentLeaderEpoch = 3 }] }]
        }),
        sample(CreateTopicsRequest.with {
            $0.topics = [.with {
                $0.name = "orders"
                $0.numPartitions = 4
                $0.replicationFactor = 1
                $0.configs = [.with { $0.name = "retention.ms"; $0.value = "86400000" }]
            }]
            $0.timeoutMilliseconds = 5000
            $0.validateOnly = true
        }),
        sample(DeleteTopicsRequest.with { $0.topicNames = ["orders"]; $0.timeoutMilliseconds = 100 }),
        sample(InitProducerIdRequest.with { $0.transactionTimeoutMilliseconds = 9000 }),
        sample(SaslHandshakeRequest.with { $0.mechanism = "SCRAM-SHA-512" }),
        sample(SaslAuthenticateRequest.with { $0.authBytes = bytes("n,,n=alice,r=abc") }),
        sample(DescribeConfigsRequest.with {
            $0.resources = [.with { $0.resourceType = 2; $0.resourceName = "orders"; $0.configurationKeys = ["retention.ms"] }]
            $0.includeSynonyms = true
            $0.includeDocumentation = true
        }),
        sample(DescribeClusterRequest.with { $0.includeClusterAuthorizedOperations = true; $0.endpointType = 2 }),
        sample(FindCoordinatorRequest.with { $0.key = "readers"; $0.keyType = 0 }),
        sample(JoinGroupRequest.with {
            $0.groupId = "readers"
            $0.sessionTimeoutMilliseconds = 10_000
            $0.rebalanceTimeoutMilliseconds = 300_000
            $0.memberId = "member-1"
            $0.groupInstanceId = "instance-1"
            $0.protocolType = "consumer"
            $0.protocols = [.with { $0.name = "range"; $0.metadata = bytes("subscription") }]
        }),
        sample(SyncGroupRequest.with {
            $0.groupId = "readers"
            $0.generationId = 3
            $0.memberId = "member-1"
            $0.groupInstanceId = "instance-1"
            $0.assignments = [.with { $0.memberId = "member-1"; $0.assignment = bytes("assignment") }]
        }),
        sample(HeartbeatRequest.with { $0.groupId = "readers"; $0.generationId = 3; $0.memberId = "member-1"; $0.groupInstanceId = "instance-1" }),
        sample(LeaveGroupRequest.with { $0.groupId = "readers"; $0.memberId = "member-1"; $0.members = [.with { $0.memberId = "member-1" }] }),
        sample(OffsetCommitRequest.with {
            $0.groupId = "readers"
            $0.generationId = 3
            $0.memberId = "member-1"
            $0.groupInstanceId = "instance-1"
            $0.retentionTimeMilliseconds = 1000
            $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with { $0.index = 1; $0.committedOffset = 42; $0.committedLeaderEpoch = 0; $0.committedMetadata = "m" }] }]
        }),
        sample(OffsetFetchRequest.with { $0.groupId = "readers"; $0.topics = [.with { $0.name = "orders"; $0.partitionIndexes = [0, 1] }] }),
        sample(ListGroupsRequest()),
        sample(DescribeGroupsRequest.with { $0.groups = ["readers"]; $0.includeAuthorizedOperations = true }),
    ]

    static let responses: [Sample] = [
        sample(ApiVersionsResponse.served()),
        sample(MetadataResponse.with {
            $0.throttleTimeMilliseconds = 1
            $0.brokers = [.with { $0.nodeId = 0; $0.host = "127.0.0.1"; $0.port = 9092; $0.rack = "r" }]
            $0.clusterId = "streamstore"
            $0.controllerId = 0
            $0.topics = [.with {
                $0.name = "orders"
                $0.isInternal = false
                $0.partitions = [.with { $0.partitionIndex = 1; $0.leaderId = 0; $0.leaderEpoch = 2; $0.replicaNodes = [0]; $0.isrNodes = [0]; $0.offlineReplicas = [] }]
                $0.topicAuthorizedOperations = 5
            }]
            $0.clusterAuthorizedOperations = 7
        }),
        sample(ProduceResponse.with {
            $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with {
                $0.index = 1; $0.errorCode = 45; $0.baseOffset = 10; $0.logAppendTimeMilliseconds = 5; $0.logStartOffset = 0
                $0.recordErrors = [.with { $0.batchIndex = 0; $0.message = "bad" }]; $0.errorMessage = "out of order"
            }] }]
            $0.throttleTimeMilliseconds = 3
        }),
        sample(FetchResponse.with {
            $0.throttleTimeMilliseconds = 2
            $0.sessionId = 0
            $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with {
                $0.index = 1; $0.highWatermark = 100; $0.lastStableOffset = 100; $0.logStartOffset = 3
                $0.abortedTransactions = [.with { $0.producerId = 9; $0.firstOffset = 8 }]; $0.preferredReadReplica = -1
                $0.records = bytes("stored batches")
            }] }]
        }),
        sample(ListOffsetsResponse.with {
            $0.throttleTimeMilliseconds = 1
            $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with { $0.index = 0; $0.timestamp = 17; $0.offset = 4; $0.leaderEpoch = 0 }] }]
        }),
        sample(CreateTopicsResponse.with { $0.topics = [.with { $0.name = "orders"; $0.errorCode = 36; $0.errorMessage = "exists" }] }),
        sample(DeleteTopicsResponse.with { $0.topics = [.with { $0.name = "orders"; $0.errorCode = 73 }] }),
        sample(InitProducerIdResponse.with { $0.producerId = 1000; $0.producerEpoch = 0 }),
        sample(SaslHandshakeResponse.with { $0.errorCode = 33; $0.mechanisms = ["SCRAM-SHA-256", "PLAIN"] }),
        sample(SaslAuthenticateResponse.with {
            $0.errorCode = 58
            $0.errorMessage = "failed"
            $0.authBytes = bytes("v=signature")
            $0.sessionLifetimeMilliseconds = 3_600_000
        }),
        sample(DescribeConfigsResponse.with {
            $0.throttleTimeMilliseconds = 5
            $0.results = [.with {
                $0.errorCode = 3
                $0.errorMessage = "unknown"
                $0.resourceType = 2
                $0.resourceName = "orders"
                $0.configs = [.with {
                    $0.name = "retention.ms"
                    $0.value = "604800000"
                    $0.readOnly = true
                    $0.isSensitive = true
                    $0.configType = 5
                    $0.documentation = "How long"
                    $0.synonyms = [.with { $0.name = "log.retention.ms"; $0.value = "1"; $0.source = 4 }]
                }]
            }]
        }),
        sample(DescribeClusterResponse.with {
            $0.throttleTimeMilliseconds = 1
            $0.errorMessage = "none"
            $0.endpointType = 1
            $0.clusterId = "streamstore"
            $0.controllerId = 0
            $0.brokers = [.with { $0.brokerId = 0; $0.host = "127.0.0.1"; $0.port = 9092; $0.rack = "a" }]
            $0.clusterAuthorizedOperations = 12
        }),
        sample(FindCoordinatorResponse.with { $0.errorMessage = "none"; $0.nodeId = 0; $0.host = "127.0.0.1"; $0.port = 9092 }),
        sample(JoinGroupResponse.with {
            $0.generationId = 3; $0.protocolName = "range"; $0.leader = "member-1"; $0.memberId = "member-1"
            $0.members = [.with { $0.memberId = "member-1"; $0.groupInstanceId = "instance-1"; $0.metadata = bytes("subscription") }]
        }),
        sample(SyncGroupResponse.with { $0.assignment = bytes("assignment") }),
        sample(HeartbeatResponse.with { $0.errorCode = 27 }),
        sample(LeaveGroupResponse.with { $0.members = [.with { $0.memberId = "member-1"; $0.errorCode = 25 }] }),
        sample(OffsetCommitResponse.with { $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with { $0.index = 1; $0.errorCode = 22 }] }] }),
        sample(OffsetFetchResponse.with {
            $0.topics = [.with { $0.name = "orders"; $0.partitions = [.with { $0.index = 1; $0.committedOffset = 42; $0.committedLeaderEpoch = 0; $0.metadata = "m" }] }]
            $0.errorCode = 0
        }),
        sample(ListGroupsResponse.with { $0.groups = [.with { $0.groupId = "readers"; $0.protocolType = "consumer" }] }),
        sample(DescribeGroupsResponse.with {
            $0.groups = [.with {
                $0.groupId = "readers"; $0.groupState = "Stable"; $0.protocolType = "consumer"; $0.protocolData = "range"
                $0.members = [.with {
                    $0.memberId = "member-1"; $0.groupInstanceId = "instance-1"; $0.clientId = "c"; $0.clientHost = "/127.0.0.1"
                    $0.memberMetadata = bytes("subscription"); $0.memberAssignment = bytes("assignment")
                }]
                $0.authorizedOperations = 3
            }]
        }),
    ]
}

extension KafkaStruct {
    /// A value built by `configure`, for compact samples.
    static func with(_ configure: (inout Self) -> Void) -> Self {
        var value = Self()
        configure(&value)
        return value
    }
}
