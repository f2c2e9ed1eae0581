import StreamStoreFormat

/// Kafka's error codes that this server answers with (Kafka's protocol guide, "Error Codes").
package enum KafkaErrorCode: Int16, Error, Sendable {
    case unknownServerError = -1
    case none = 0
    case offsetOutOfRange = 1
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case leaderNotAvailable = 5
    case requestTimedOut = 7
    case messageTooLarge = 10
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case invalidTopic = 17
    case invalidRequiredAcks = 21
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupId = 24
    case unknownMemberId = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    case invalidTimestamp = 32
    case unsupportedSaslMechanism = 33
    case illegalSaslState = 34
    case unsupportedVersion = 35
    case topicAlreadyExists = 36
    case invalidPartitions = 37
    case invalidReplicationFactor = 38
    case invalidConfig = 40
    case invalidRequest = 42
    case outOfOrderSequenceNumber = 45
    case invalidProducerEpoch = 47
    case kafkaStorageError = 56
    case saslAuthenticationFailed = 58
    case groupIdNotFound = 69
    case topicDeletionDisabled = 73
    case unsupportedCompressionType = 76
    case invalidRecord = 87

    /// The Kafka error a client should see for a store error.
    package init(_ error: StreamStoreError) {
        switch error.code {
        case .unknownTopic, .partitionOutOfRange: self = .unknownTopicOrPartition
        case .offsetOutOfRange: self = .offsetOutOfRange
        case .recordTooLarge, .batchTooLarge: self = .messageTooLarge
        case .tooManyHeaders, .headerKeyTooLong, .emptyBatch, .invalidMessageID: self = .invalidRecord
        case .timestampInFuture: self = .invalidTimestamp
        case .corruptBatch: self = .corruptMessage
        case .producerFenced: self = .invalidProducerEpoch
        case .outOfOrderSequence: self = .outOfOrderSequenceNumber
        case .invalidTopicName: self = .invalidTopic
        case .topicExists: self = .topicAlreadyExists
        case .invalidConfig: self = .invalidConfig
        case .invalidGroupName: self = .invalidGroupId
        case .unknownGroup: self = .groupIdNotFound
        case .io, .storeClosed, .partitionFenced, .missingActiveSegment, .corruptManifest, .topicConfigMismatch,
            .corruptGroupOffsets, .fileTooLarge, .compressionFailed:
            self = .kafkaStorageError
        default: self = .unknownServerError
        }
    }
}
