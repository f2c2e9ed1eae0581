import CoreMetrics
import Foundation
import Logging
import StreamStore

/// Runs the instances of one ``SagaDefinition``: the process manager (docs/MESSAGING.md,
/// "Sagas").
///
/// ```swift
/// let manager = try await SagaManager(store: store, definition: order)
/// let running = Task { try await manager.run() }           // consumes the participants' replies
/// _ = try await manager.start(id: "order-17", data: #"{"sku":"sku-1","cents":1200}"#)
/// ```
///
/// - **Every state change is an event** in the saga topic (`<name>.sagas`, one partition):
///   the outcome of a reply or a timeout and the step it leads to are appended as one batch,
///   so a crash leaves both or neither. Events carry the instance's id as correlation id and
///   `ID#N` as message id (N counts the instance's events), and name what caused them.
/// - **Restart.** Making a manager rebuilds every instance from the saga topic (from the newest
///   snapshot of its projection, then the tail, and saves a new snapshot), sends again the
///   command each running instance waits for (same message id, so a participant topic with a
///   de-duplication window keeps one, and participants that check message ids apply it once),
///   takes up instances a crash stopped between an outcome and its next step, and schedules
///   their deadlines: a deadline that passed while the manager was down fires at once.
/// - **Commands** go to each step's topic keyed by the instance's id, with `reply-to` (the
///   saga's reply topic), the instance's id as correlation id, `ID:STEP:action|compensation:ATTEMPT`
///   as message id and `saga-step`, and the step's deadline. Participants answer them with a
///   ``Responder``.
/// - **Replies** are read by consumer group `<name>.saga-manager` and committed once their
///   outcome is durable. A reply that is not the one an instance waits for (a duplicate, one
///   after a timeout, one of a finished instance) changes nothing.
/// - **Failure.** A step that fails or times out starts compensation: the compensations of the
///   steps before it (and of a step that timed out, whose action may have happened) run one at
///   a time in reverse order, each tried up to ``SagaDefinition/compensationAttempts`` times;
///   then the instance is ``SagaStatus/compensated``, or ``SagaStatus/failed`` when a
///   compensation kept failing.
///
/// One manager per saga per store: instances are not shared between processes.
public final class SagaManager: Sendable {
    /// How a manager reads, reports and keeps time.
    public struct Options: Sendable {
        /// Replies handled at the same time (different instances; one instance's are in turn).
        public var maxConcurrentReplies: Int
        /// Whether a start saves a snapshot of the rebuilt instances, so the next start folds
        /// only the events after it.
        public var savesSnapshots: Bool
        /// Where the time comes from (deadlines).
        public var clock: any StoreClock
        /// Where failures of timers and skipped replies are reported.
        public var logger: Logger
        /// Where metrics go (nil: the globally bootstrapped factory).
        public var metricsFactory: (any MetricsFactory)?
        /// Told of every instance whose state changed, once its events are durable (in turn
        /// per instance; instances concurrently). Keep it short: the instance waits for it.
        public var onChange: (@Sendable (SagaInstance) -> Void)?

        /// Options with 64 concurrent replies, snapshots on, the system clock.
        public init(
            maxConcurrentReplies: Int = 64, savesSnapshots: Bool = true, clock: any StoreClock = SystemClock(),
            logger: Logger = Logger(label: "streamstore.saga-manager"), metricsFactory: (any MetricsFactory)? = nil,
            onChange: (@Sendable (SagaInstance) -> Void)? = nil
        ) {
            self.maxConcurrentReplies = maxConcurrentReplies
            self.savesSnapshots = savesSnapshots
            self.clock = clock
            self.logger = logger
            self.metricsFactory = metricsFactory
            self.onChange = onChange
        }
    }

    /// Counts since the manager was made.
    public struct Statistics: Sendable, Equatable {
        /// Instances per state.
        public var instances: [SagaStatus: Int] = [:]
        /// Compensation commands sent.
        public var compensationsRun = 0
        /// Replies and timeouts that changed nothing (duplicates, late ones).
        public var ignoredInputs = 0
        /// Replies that were not saga replies (no `saga-step` or correlation id).
        public var invalidReplies = 0
        /// Instances rebuilt from the saga topic when the manager was made.
        public var rebuiltInstances = 0
        /// Events folded to rebuild them (after the snapshot used, if any).
        public var replayedEvents = 0
    }

    /// The definition it runs.
    public let definition: SagaDefinition
    /// The options it was made with.
    public let options: Options
    private let store: Store
    private let sagaTopic: Topic
    private let consumer: Consumer
    private let instances: Locked<[String: SagaInstance]>
    private let counts: Locked<Statistics>
    private let serializer = KeyedSerializer()
    private let timers = Locked<[String: Task<Void, Never>]>([:])
    private let metrics: SagaMetrics

    /// A manager for `definition`: creates its topics when missing (the saga topic with one
    /// partition; both with a one-hour de-duplication window), rebuilds its instances, sends the
    /// commands they wait for again and schedules their deadlines. Call ``run()`` to consume
    /// replies.
    public init(store: Store, definition: SagaDefinition, options: Options = Options()) async throws(MessagingError) {
        try definition.validate()
        guard options.maxConcurrentReplies >= 1 else {
            throw MessagingError(.invalidDefinition, "maxConcurrentReplies must be at least 1, not \(options.maxConcurrentReplies).")
        }
        self.definition = definition
        self.options = options
        self.store = store
        let config = TopicConfig(partitionCount: 1, dedupeWindowMilliseconds: 3_600_000)
        let (saga, replies) = try storeCallNow { () throws(StreamStoreError) -> (Topic, Consumer) in
            let saga = store.topicNames.contains(definition.sagaTopic) ? try store.topic(definition.sagaTopic) : try store.createTopic(definition.sagaTopic, config: config)
            if !store.topicNames.contains(definition.replyTopic) { _ = try store.createTopic(definition.replyTopic, config: config) }
            return (saga, try store.consumer(group: definition.name + ".saga-manager", topic: definition.replyTopic))
        }
        sagaTopic = saga
        consumer = replies
        let rebuilt = try await storeCall { () async throws(StreamStoreError) -> ProjectionResult<SagaProjection.State> in
            try await store.rebuild(SagaProjection(sagaName: definition.name), from: definition.sagaTopic, saveSnapshot: options.savesSnapshots)
        }
        instances = Locked(rebuilt.state.instances)
        var statistics = Statistics(rebuiltInstances: rebuilt.state.instances.count, replayedEvents: rebuilt.report.replayedRecords)
        for instance in rebuilt.state.instances.values { statistics.instances[instance.status, default: 0] += 1 }
        counts = Locked(statistics)
        metrics = SagaMetrics(factory: options.metricsFactory ?? MetricsSystem.factory, saga: definition.name)
        metrics.report(statistics.instances)
        try await resumeAll()
    }

    deinit {
        for timer in timers.withLock({ $0.values }) { timer.cancel() }
    }

    /// Begins an instance with `data` (the value of its commands) and returns it once its first
    /// command is sent. An `id` that exists already changes nothing and returns that instance:
    /// starting twice is starting once. The id is a new UUID when not given.
    @discardableResult
    public func start(id: String = UUID().uuidString.lowercased(), data: String) async throws(MessagingError) -> SagaInstance {
        guard !id.isEmpty, id.utf8.count <= Limits.maxMessageIDBytes - 64 else {
            throw MessagingError(.invalidDefinition, "A saga id must be 1 to \(Limits.maxMessageIDBytes - 64) bytes, not \(id.utf8.count).")
        }
        try await process(id, .start(data: data), cause: nil)
        guard let instance = instance(id) else { throw MessagingError(.unknownSaga, "Saga \(id) did not start.", correlationID: id) }
        return instance
    }

    /// Consumes the participants' replies until the task is cancelled or ``close()`` is called;
    /// throws when the store fails.
    public func run() async throws(MessagingError) {
        try await ConsumerLoop.run(consumer, maxConcurrent: options.maxConcurrentReplies, maxRecords: nil) { record in
            await self.handleReply(record)
        }
    }

    /// Stops consuming replies and cancels the deadlines' timers (they are scheduled again by
    /// the next manager).
    public func close() {
        consumer.close()
        for timer in timers.withLock({ timers in
            defer { timers = [:] }
            return Array(timers.values)
        }) { timer.cancel() }
    }

    /// The instance with `id`, or nil.
    public func instance(_ id: String) -> SagaInstance? { instances.withLock { $0[id] } }

    /// Every instance, or those in `status`, oldest first.
    public func allInstances(status: SagaStatus? = nil) -> [SagaInstance] {
        instances.withLock { Array($0.values) }
            .filter { status == nil || $0.status == status }
            .sorted { ($0.startedMilliseconds, $0.id) < ($1.startedMilliseconds, $1.id) }
    }

    /// What the manager counted so far.
    public var statistics: Statistics { counts.withLock { $0 } }

    // MARK: Inputs

    private func handleReply(_ record: StoredRecord) async -> Result<ConsumerLoop.Outcome, MessagingError> {
        guard let id = record.correlationID, let ref = record.headerString(.sagaStep).flatMap({ SagaStepRef($0) }) else {
            counts.withLock { $0.invalidReplies += 1 }
            options.logger.warning("Skipped reply \(definition.replyTopic)[\(record.partition)] offset \(record.offset): it has no correlation-id or saga-step header.")
            return .success(.done)
        }
        do throws(MessagingError) {
            let input = SagaMachine.Input.reply(ref, succeeded: record.replySucceeded ?? true, value: record.valueString ?? "")
            try await process(id, input, cause: record.messageID)
            return .success(.done)
        } catch {
            return .failure(error)
        }
    }

    /// Decides what `input` does to instance `id`, appends the events, applies them, sends the
    /// commands they start and schedules the deadline; all of it in turn with the instance's
    /// other inputs.
    private func process(_ id: String, _ input: SagaMachine.Input, cause: String?) async throws(MessagingError) {
        try await serializer.run(id) { () async throws(MessagingError) in
            let instance = self.instance(id)
            let now = options.clock.nowMilliseconds()
            let events = SagaMachine.decide(instance, id: id, input: input, definition: definition, now: now)
            guard !events.isEmpty else {
                if case .start = input {} else { counts.withLock { $0.ignoredInputs += 1 } }
                return
            }
            let first = instance?.eventCount ?? 0
            var records: [Record] = []
            var causation = cause
            for (index, event) in events.enumerated() {
                let record = eventRecord(event, id: id, number: first + index, cause: causation)
                causation = record.messageID
                records.append(record)
            }
            let topic = sagaTopic
            _ = try await storeCall(correlationID: id) { () async throws(StreamStoreError) -> AppendReceipt in
                try await topic.append(records, partition: 0)
            }
            guard let updated = SagaMachine.apply(events, to: instance, id: id) else { return }
            instances.withLock { $0[id] = updated }
            count(from: instance?.status, to: updated.status, events: events)
            options.onChange?(updated)
            if let ref = updated.awaiting, let last = records.last?.messageID {
                try await send(ref, of: updated, cause: last)
                schedule(ref, of: updated)
            } else {
                timers.withLock { $0.removeValue(forKey: id) }?.cancel()
            }
        }
    }

    /// Appends the command `ref` of `instance` to its step's topic.
    private func send(_ ref: SagaStepRef, of instance: SagaInstance, cause: String?) async throws(MessagingError) {
        let step = definition.steps[ref.step]
        var command = Record(key: instance.id, value: instance.data)
        command.setHeader(.messageID, "\(instance.id):\(ref)")
        command.setHeader(.correlationID, instance.id)
        if let cause { command.setHeader(.causationID, cause) }
        command.setHeader(.eventType, ref.isCompensation ? (step.compensation ?? step.action) : step.action)
        command.setHeader(.replyTo, definition.replyTopic)
        command.setHeader(.sagaStep, ref.description)
        if let deadline = instance.deadlineMilliseconds { command.setHeader(.deadline, String(deadline)) }
        let store = store
        _ = try await storeCall(correlationID: instance.id) { () async throws(StreamStoreError) -> [AppendReceipt] in
            try await store.topic(step.topic).append([command])
        }
    }

    /// Feeds the timeout of `ref` to the instance when its deadline passes.
    private func schedule(_ ref: SagaStepRef, of instance: SagaInstance) {
        guard let deadline = instance.deadlineMilliseconds else { return }
        let id = instance.id
        let wait = max(0, deadline - options.clock.nowMilliseconds())
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(wait))
            guard !Task.isCancelled, let self else { return }
            do throws(MessagingError) {
                try await self.process(id, .timeout(ref), cause: "\(id):\(ref)")
            } catch {
                self.options.logger.error("Saga \(id): the timeout of \(ref) could not be recorded: \(error); the next start of the manager retries it.")
            }
        }
        let previous = timers.withLock { timers in
            defer { timers[id] = timer }
            return timers[id]
        }
        previous?.cancel()
    }

    /// At start: sends again what running instances wait for, schedules their deadlines, and
    /// takes up those that wait for nothing.
    private func resumeAll() async throws(MessagingError) {
        for instance in allInstances() where !instance.status.isFinal {
            if let ref = instance.awaiting {
                if let deadline = instance.deadlineMilliseconds, deadline > options.clock.nowMilliseconds() {
                    try await send(ref, of: instance, cause: "\(instance.id)#\(instance.eventCount - 1)")
                }
                schedule(ref, of: instance)
            } else {
                try await process(instance.id, .resume, cause: "\(instance.id)#\(instance.eventCount - 1)")
            }
        }
    }

    private func eventRecord(_ event: SagaEvent, id: String, number: Int, cause: String?) -> Record {
        let value = (try? JSONEncoder().encode(event)).map { [UInt8]($0) } ?? []
        var record = Record(key: Array(id.utf8), value: value)
        record.setHeader(.messageID, "\(id)#\(number)")
        record.setHeader(.correlationID, id)
        if let cause { record.setHeader(.causationID, cause) }
        record.setHeader(.eventType, event.kind.rawValue)
        record.setHeader(.sagaName, definition.name)
        record.setHeader(.contentType, "application/json")
        return record
    }

    private func count(from old: SagaStatus?, to new: SagaStatus, events: [SagaEvent]) {
        let compensations = events.filter { $0.kind == .compensationStarted }.count
        let byState = counts.withLock { counts in
            if let old { counts.instances[old, default: 0] -= 1 }
            counts.instances[new, default: 0] += 1
            counts.compensationsRun += compensations
            return counts.instances
        }
        if compensations > 0 { metrics.compensations.increment(by: Int64(compensations)) }
        metrics.report(byState)
    }
}
