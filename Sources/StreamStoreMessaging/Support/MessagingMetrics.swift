import CoreMetrics
import StreamStore

/// The names of the metrics request-reply and sagas report through swift-metrics (README,
/// "Request-reply and sagas"). Counters end in `_total`, durations in `_seconds`, as
/// Prometheus names them.
enum MessagingMetricName {
    static let requestsInFlight = "streamstore_requests_in_flight"
    static let replyLatency = "streamstore_reply_latency_seconds"
    static let requestTimeouts = "streamstore_request_timeouts_total"
    static let lateReplies = "streamstore_late_replies_total"
    static let droppedReplies = "streamstore_dropped_replies_total"
    static let commandsReplied = "streamstore_commands_replied_total"
    static let expiredCommands = "streamstore_expired_commands_total"
    static let invalidCommands = "streamstore_invalid_commands_total"
    static let sagas = "streamstore_sagas"
    static let sagaCompensations = "streamstore_saga_compensations_total"
}

/// A requester's metric handles, labelled with its reply topic.
struct RequesterMetrics: Sendable {
    let inFlight: any RecorderHandler
    let latency: any TimerHandler
    let timeouts: any CounterHandler
    let lateReplies: any CounterHandler
    let droppedReplies: any CounterHandler

    init(factory: any MetricsFactory, replyTopic: String) {
        let dimensions = [("reply_topic", replyTopic)]
        inFlight = factory.makeRecorder(label: MessagingMetricName.requestsInFlight, dimensions: dimensions, aggregate: false)
        latency = factory.makeTimer(label: MessagingMetricName.replyLatency, dimensions: dimensions)
        timeouts = factory.makeCounter(label: MessagingMetricName.requestTimeouts, dimensions: dimensions)
        lateReplies = factory.makeCounter(label: MessagingMetricName.lateReplies, dimensions: dimensions)
        droppedReplies = factory.makeCounter(label: MessagingMetricName.droppedReplies, dimensions: dimensions)
    }
}

/// A responder's metric handles, labelled with its group and command topic.
struct ResponderMetrics: Sendable {
    let replied: any CounterHandler
    let expired: any CounterHandler
    let invalid: any CounterHandler

    init(factory: any MetricsFactory, group: String, topic: String) {
        let dimensions = [("group", group), ("topic", topic)]
        replied = factory.makeCounter(label: MessagingMetricName.commandsReplied, dimensions: dimensions)
        expired = factory.makeCounter(label: MessagingMetricName.expiredCommands, dimensions: dimensions)
        invalid = factory.makeCounter(label: MessagingMetricName.invalidCommands, dimensions: dimensions)
    }
}

/// A process manager's metric handles, labelled with the saga's name.
struct SagaMetrics: Sendable {
    let byState: [SagaStatus: any RecorderHandler]
    let compensations: any CounterHandler

    init(factory: any MetricsFactory, saga: String) {
        var byState: [SagaStatus: any RecorderHandler] = [:]
        for status in SagaStatus.allCases {
            byState[status] = factory.makeRecorder(
                label: MessagingMetricName.sagas, dimensions: [("saga", saga), ("state", status.rawValue)], aggregate: false)
        }
        self.byState = byState
        compensations = factory.makeCounter(label: MessagingMetricName.sagaCompensations, dimensions: [("saga", saga)])
    }

    func report(_ counts: [SagaStatus: Int]) {
        for (status, handler) in byState { handler.record(Int64(counts[status] ?? 0)) }
    }
}
