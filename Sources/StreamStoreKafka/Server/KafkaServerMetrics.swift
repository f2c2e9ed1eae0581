import CoreMetrics
import NIOCore
import StreamStoreFormat

/// The Kafka server's metrics, through swift-metrics (so `stream-tool serve --metrics-port`
/// serves them for Prometheus; docs/KAFKA.md lists them):
///
/// - `streamstore_kafka_requests_total{api, error}`: requests answered, by API and the first
///   error code of the answer (`none` when every part succeeded);
/// - `streamstore_kafka_request_duration_seconds{api}`: from a produce or fetch request read to
///   its answer ready (a produce waits for durability, a fetch may wait for data);
/// - `streamstore_kafka_received_bytes_total`, `streamstore_kafka_sent_bytes_total`: frames,
///   length prefixes included;
/// - `streamstore_kafka_connections`: connections open; `streamstore_kafka_connections_total`
///   `{outcome}`: accepted, refused (over ``Limits/kafkaMaxConnections``), and closed for a
///   frame that is not a request (`bad_frame`).
///
/// One per process, made on first use from the factory bootstrapped by then (as the store's
/// handles are): servers of one process add up, as a factory returns the same series for the
/// same name and labels. Handles are made on first use of each label set, never per request.
final class KafkaServerMetrics: Sendable {
    static let shared = KafkaServerMetrics(factory: MetricsSystem.factory)

    static let requestsLabel = "streamstore_kafka_requests_total"
    static let durationLabel = "streamstore_kafka_request_duration_seconds"

    private let factory: any MetricsFactory
    private let requests = Locked<[Int32: any CounterHandler]>([:])
    let receivedBytes: any CounterHandler
    let sentBytes: any CounterHandler
    let produceDuration: any TimerHandler
    let fetchDuration: any TimerHandler
    private let openConnections: any RecorderHandler
    private let accepted: any CounterHandler
    private let refused: any CounterHandler
    private let badFrames: any CounterHandler

    init(factory: any MetricsFactory) {
        self.factory = factory
        receivedBytes = factory.makeCounter(label: "streamstore_kafka_received_bytes_total", dimensions: [])
        sentBytes = factory.makeCounter(label: "streamstore_kafka_sent_bytes_total", dimensions: [])
        produceDuration = factory.makeTimer(label: Self.durationLabel, dimensions: [("api", "produce")])
        fetchDuration = factory.makeTimer(label: Self.durationLabel, dimensions: [("api", "fetch")])
        openConnections = factory.makeRecorder(label: "streamstore_kafka_connections", dimensions: [], aggregate: false)
        accepted = factory.makeCounter(label: "streamstore_kafka_connections_total", dimensions: [("outcome", "accepted")])
        refused = factory.makeCounter(label: "streamstore_kafka_connections_total", dimensions: [("outcome", "refused")])
        badFrames = factory.makeCounter(label: "streamstore_kafka_connections_total", dimensions: [("outcome", "bad_frame")])
    }

    /// Counts one answer of `apiKey` whose first error code is `errorCode`.
    func answered(apiKey: Int16, errorCode: Int16) {
        let key = Int32(apiKey) << 16 | Int32(UInt16(bitPattern: errorCode))
        let counter = requests.withLock { counters in
            if let counter = counters[key] { return counter }
            let api = ApiKey(rawValue: apiKey).map { String(describing: $0) } ?? String(apiKey)
            let error = KafkaErrorCode(rawValue: errorCode).map { String(describing: $0) } ?? String(errorCode)
            let counter = factory.makeCounter(label: Self.requestsLabel, dimensions: [("api", api), ("error", error)])
            counters[key] = counter
            return counter
        }
        counter.increment(by: 1)
    }

    /// The request's time to its answer, for the APIs timed (produce and fetch).
    func recordDuration(apiKey: Int16, since start: NIODeadline) {
        let nanoseconds = (NIODeadline.now() - start).nanoseconds
        switch ApiKey(rawValue: apiKey) {
        case .produce: produceDuration.recordNanoseconds(nanoseconds)
        case .fetch: fetchDuration.recordNanoseconds(nanoseconds)
        default: break
        }
    }

    func connectionAccepted(open: Int) {
        accepted.increment(by: 1)
        openConnections.record(Int64(open))
    }

    func connectionClosed(open: Int) { openConnections.record(Int64(open)) }
    func connectionRefused() { refused.increment(by: 1) }
    func badFrame() { badFrames.increment(by: 1) }
}

/// The first error code in a response, for ``KafkaServerMetrics/answered(apiKey:errorCode:)``.
protocol KafkaErrorReporting {
    var firstErrorCode: Int16 { get }
}

extension Sequence {
    /// The first non-zero code of the elements, or 0.
    fileprivate func firstError(_ code: (Element) -> Int16) -> Int16 {
        for element in self where code(element) != 0 { return code(element) }
        return 0
    }
}

extension ApiVersionsResponse: KafkaErrorReporting { var firstErrorCode: Int16 { errorCode } }
extension FindCoordinatorResponse: KafkaErrorReporting { var firstErrorCode: Int16 { errorCode } }
extension JoinGroupResponse: KafkaErrorReporting { var firstErrorCode: Int16 { errorCode } }
extension SyncGroupResponse: KafkaErrorReporting { var firstErrorCode: Int16 { errorCode } }
extension HeartbeatResponse: KafkaErrorReporting { var firstErrorCode: Int16 { errorCode } }
extension InitProducerIdResponse: KafkaErrorReporting { var firstErrorCode: Int16 { errorCode } }
extension ListGroupsResponse: KafkaErrorReporting { var firstErrorCode: Int16 { errorCode } }

extension LeaveGroupResponse: KafkaErrorReporting {
    var firstErrorCode: Int16 { errorCode != 0 ? errorCode : members.firstError(\.errorCode) }
}

extension DescribeGroupsResponse: KafkaErrorReporting { var firstErrorCode: Int16 { groups.firstError(\.errorCode) } }
extension CreateTopicsResponse: KafkaErrorReporting { var firstErrorCode: Int16 { topics.firstError(\.errorCode) } }
extension DeleteTopicsResponse: KafkaErrorReporting { var firstErrorCode: Int16 { topics.firstError(\.errorCode) } }

extension MetadataResponse: KafkaErrorReporting {
    var firstErrorCode: Int16 { topics.firstError { $0.errorCode != 0 ? $0.errorCode : $0.partitions.firstError(\.errorCode) } }
}

extension ProduceResponse: KafkaErrorReporting {
    var firstErrorCode: Int16 { topics.firstError { $0.partitions.firstError(\.errorCode) } }
}

extension FetchResponse: KafkaErrorReporting {
    var firstErrorCode: Int16 { errorCode != 0 ? errorCode : topics.firstError { $0.partitions.firstError(\.errorCode) } }
}

extension ListOffsetsResponse: KafkaErrorReporting {
    var firstErrorCode: Int16 { topics.firstError { $0.partitions.firstError(\.errorCode) } }
}

extension OffsetCommitResponse: KafkaErrorReporting {
    var firstErrorCode: Int16 { topics.firstError { $0.partitions.firstError(\.errorCode) } }
}

extension OffsetFetchResponse: KafkaErrorReporting {
    var firstErrorCode: Int16 { errorCode != 0 ? errorCode : topics.firstError { $0.partitions.firstError(\.errorCode) } }
}
