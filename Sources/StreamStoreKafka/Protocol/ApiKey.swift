/// The Kafka APIs this server knows, with the versions it serves.
///
/// The served versions are those of a Kafka 2.3 broker, the last before most APIs moved to the
/// flexible encoding, plus ApiVersions up to v3 (flexible), which current clients send first.
/// Every client negotiates down to them through ApiVersions (docs/KAFKA.md lists them).
@_spi(Fuzzing) public enum ApiKey: Int16, Sendable, CaseIterable {
    case produce = 0
    case fetch = 1
    case listOffsets = 2
    case metadata = 3
    case offsetCommit = 8
    case offsetFetch = 9
    case findCoordinator = 10
    case joinGroup = 11
    case heartbeat = 12
    case leaveGroup = 13
    case syncGroup = 14
    case describeGroups = 15
    case listGroups = 16
    case saslHandshake = 17
    case apiVersions = 18
    case createTopics = 19
    case deleteTopics = 20
    case initProducerId = 22
    case addPartitionsToTxn = 24
    case addOffsetsToTxn = 25
    case endTxn = 26
    case txnOffsetCommit = 28
    case describeConfigs = 32
    case saslAuthenticate = 36
    case describeCluster = 60

    /// The versions served; nil for APIs that are known only to refuse them clearly.
    public var supportedVersions: ClosedRange<Int16>? {
        switch self {
        case .produce: return 3...8
        case .fetch: return 4...11
        case .listOffsets: return 1...5
        case .metadata: return 0...8
        case .offsetCommit: return 2...7
        case .offsetFetch: return 1...5
        case .findCoordinator: return 0...2
        case .joinGroup: return 0...5
        case .heartbeat: return 0...3
        case .leaveGroup: return 0...3
        case .syncGroup: return 0...3
        case .describeGroups: return 0...4
        case .listGroups: return 0...2
        case .apiVersions: return 0...3
        case .createTopics: return 0...4
        case .deleteTopics: return 0...3
        case .initProducerId: return 0...1
        case .saslHandshake: return 0...1
        case .saslAuthenticate: return 0...2
        case .describeConfigs: return 0...4
        case .describeCluster: return 0...1
        case .addPartitionsToTxn, .addOffsetsToTxn, .endTxn, .txnOffsetCommit: return nil
        }
    }

    /// The first version that uses the flexible encoding (KIP-482), per Kafka's schemas.
    var firstFlexibleVersion: Int16 {
        switch self {
        case .produce: return 9
        case .fetch: return 12
        case .listOffsets: return 6
        case .metadata: return 9
        case .offsetCommit: return 8
        case .offsetFetch: return 6
        case .findCoordinator: return 3
        case .joinGroup: return 6
        case .heartbeat: return 4
        case .leaveGroup: return 4
        case .syncGroup: return 4
        case .describeGroups: return 5
        case .listGroups: return 3
        case .saslHandshake: return Int16.max
        case .apiVersions: return 3
        case .createTopics: return 5
        case .deleteTopics: return 4
        case .initProducerId: return 2
        case .addPartitionsToTxn: return 3
        case .addOffsetsToTxn: return 3
        case .endTxn: return 3
        case .txnOffsetCommit: return 3
        case .describeConfigs: return 4
        case .saslAuthenticate: return 2
        case .describeCluster: return 0
        }
    }

    public func isFlexible(version: Int16) -> Bool { version >= firstFlexibleVersion }

    /// Request header version: 2 (with tagged fields) for flexible versions, else 1.
    /// ApiVersions keeps its request header and the client id even when flexible.
    public func requestHeaderVersion(_ version: Int16) -> Int16 { isFlexible(version: version) ? 2 : 1 }

    /// Response header version: 1 (with tagged fields) for flexible versions, else 0; always 0
    /// for ApiVersions, so a client can read the answer before it knows what the broker speaks.
    public func responseHeaderVersion(_ version: Int16) -> Int16 {
        self != .apiVersions && isFlexible(version: version) ? 1 : 0
    }
}
