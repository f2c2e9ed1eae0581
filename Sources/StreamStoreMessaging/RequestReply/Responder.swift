import CoreMetrics
import Logging
import StreamStore

/// Answers commands sent by ``Requester``s (or any producer that sets `reply-to`): a member of a
/// consumer group on the command topic, so each command has one handler among the group's
/// members, in this process or others (docs/MESSAGING.md).
///
/// ```swift
/// let stock = try Responder(store: store, group: "stock-service", commandTopic: "stock")
/// try await stock.run { command in
///     try reserve(command.valueString ?? "")        // idempotent: delivery is at-least-once
///     return Reply("reserved", eventType: "stock-reserved")
/// }
/// ```
///
/// For each command, in the order of its partition:
/// - without a `reply-to` or `message-id`, or with a reply topic that does not exist, it is
///   reported (``ResponderEvent/invalid(command:reason:)``, a warning, a metric) and committed;
/// - past its `deadline` it is skipped, reported (``ResponderEvent/expired(command:deadlineMilliseconds:)``)
///   and committed: the requester gave up on it;
/// - otherwise the handler runs; its ``Reply`` (or, when it throws, its error with
///   `reply-status: error`) is appended to the reply topic with the command's correlation id,
///   the command's message id as causation id, the command's deadline, and a message id derived
///   from the command's, made durable, and only then is the command committed.
///
/// A responder that crashes after a reply is durable and before the commit handles the command
/// again after the restart; its second reply has the same message id, so a reply topic with a
/// de-duplication window (a ``Requester`` makes its own so) keeps one. Handlers must be
/// idempotent all the same: their effects happen again.
///
/// Up to ``Options/maxConcurrentCommands`` commands are handled at once; replies appended
/// together share a batch and an fsync, and each partition's commit moves only past commands
/// whose replies are durable.
public final class Responder: Sendable {
    /// How a responder reads, how many commands it handles at once, and where it reports.
    public struct Options: Sendable {
        /// Commands handled at the same time (1 to `Limits.maxConcurrentCommands`; default 64).
        public var maxConcurrentCommands: Int
        /// Whether commands with the same key are handled one after another, in the order of
        /// their partition (default true): a compensation never overtakes the action it undoes.
        /// Commands without a key are not held back.
        public var ordersByKey: Bool
        /// How the group's member reads (where a new group starts, read size). Its commit policy
        /// must stay manual: the responder commits itself.
        public var consumer: ConsumerOptions
        /// Where the time comes from (deadlines).
        public var clock: any StoreClock
        /// Where expired and invalid commands are reported.
        public var logger: Logger
        /// Where metrics go (nil: the globally bootstrapped factory).
        public var metricsFactory: (any MetricsFactory)?

        /// Options with the defaults above.
        public init(
            maxConcurrentCommands: Int = 64, ordersByKey: Bool = true, consumer: ConsumerOptions = ConsumerOptions(), clock: any StoreClock = SystemClock(),
            logger: Logger = Logger(label: "streamstore.responder"), metricsFactory: (any MetricsFactory)? = nil
        ) {
            self.maxConcurrentCommands = maxConcurrentCommands
            self.ordersByKey = ordersByKey
            self.consumer = consumer
            self.clock = clock
            self.logger = logger
            self.metricsFactory = metricsFactory
        }
    }

    /// Counts since the responder was made.
    public struct Statistics: Sendable, Equatable {
        /// Commands answered (the handler's reply or its error), reply durable.
        public var replied = 0
        /// Commands skipped because their deadline had passed.
        public var expired = 0
        /// Commands that could not be answered.
        public var invalid = 0
    }

    /// The group's member reading the command topic.
    public let consumer: Consumer
    /// The options it was made with.
    public let options: Options
    /// Where replies are appended.
    private let replyStore: Store
    private let metrics: ResponderMetrics
    private let producers = Locked<[String: Producer]>([:])
    private let counts = Locked(Statistics())

    /// A member of `group` answering the commands of `commandTopic` in `store`, with replies
    /// appended to `replyStore`'s topics (default: the same store). With two stores, `store` may
    /// be opened read-only: a responder in another process than its requesters reads their
    /// store and writes its own (``Requester/init(store:replyStore:options:)``).
    public init(store: Store, group: String, commandTopic: String, replyStore: Store? = nil, options: Options = Options()) throws(MessagingError) {
        guard (1...Limits.maxConcurrentCommands).contains(options.maxConcurrentCommands) else {
            throw MessagingError(.invalidDefinition, "maxConcurrentCommands must be 1 to \(Limits.maxConcurrentCommands), not \(options.maxConcurrentCommands).")
        }
        guard !options.consumer.commitPolicy.isAutomatic else {
            throw MessagingError(.invalidDefinition, "A responder commits only after a reply is durable: its consumer's commit policy must be manual.")
        }
        self.replyStore = replyStore ?? store
        self.options = options
        consumer = try storeCallNow { () throws(StreamStoreError) -> Consumer in
            try store.consumer(group: group, topic: commandTopic, options: options.consumer)
        }
        metrics = ResponderMetrics(factory: options.metricsFactory ?? MetricsSystem.factory, group: group, topic: commandTopic)
    }

    /// What the responder counted so far.
    public var statistics: Statistics { counts.withLock { $0 } }

    /// Handles commands until the task is cancelled or the responder is closed (then it returns
    /// after the commands under way are answered or abandoned), or until `maxCommands` commands
    /// are done with. Throws when the store fails (reading, appending a reply, committing): the
    /// commands not committed come again to the next run.
    ///
    /// A handler that throws after the task was cancelled is not answered: the command is left
    /// for the next run, as it would be after a crash.
    public func run(
        maxCommands: Int? = nil,
        onEvent: (@Sendable (ResponderEvent) -> Void)? = nil,
        handler: @escaping @Sendable (StoredRecord) async throws -> Reply
    ) async throws(MessagingError) {
        var key: (@Sendable (StoredRecord) -> String?)?
        if options.ordersByKey { key = { record in record.keyString } }
        try await ConsumerLoop.run(consumer, maxConcurrent: options.maxConcurrentCommands, maxRecords: maxCommands, orderedBy: key) { record in
            await self.answer(record, onEvent: onEvent, handler: handler)
        }
    }

    /// Leaves the group: ``run(maxCommands:onEvent:handler:)`` stops taking commands.
    public func close() async {
        consumer.close()
        let producers = producers.withLock { $0.values }
        for producer in producers { try? await producer.close() }
    }

    /// Handles one command: done with (answered, expired or invalid), or abandoned (cancelled)
    /// and not to be committed.
    private func answer(
        _ command: StoredRecord, onEvent: (@Sendable (ResponderEvent) -> Void)?, handler: @Sendable (StoredRecord) async throws -> Reply
    ) async -> Result<ConsumerLoop.Outcome, MessagingError> {
        guard let replyTo = command.replyTo, let messageID = command.messageID else {
            return .success(invalid(command, reason: "it has no \(command.replyTo == nil ? "reply-to" : "message-id") header", onEvent: onEvent))
        }
        if let deadline = command.deadlineMilliseconds, options.clock.nowMilliseconds() > deadline {
            counts.withLock { $0.expired += 1 }
            metrics.expired.increment(by: 1)
            options.logger.info("Skipped command \(consumer.topic.name)[\(command.partition)] offset \(command.offset) (\(messageID)): its deadline passed.")
            onEvent?(.expired(command: command, deadlineMilliseconds: deadline))
            return .success(.done)
        }
        let producer: Producer
        let replyTopic: Topic
        do throws(StreamStoreError) {
            (producer, replyTopic) = try self.producer(for: replyTo)
        } catch where error.code == .unknownTopic || error.code == .invalidTopicName {
            return .success(invalid(command, reason: "its reply topic \(replyTo) does not exist", onEvent: onEvent))
        } catch {
            return .failure(MessagingError(error, correlationID: command.correlationID))
        }
        var reply: Record
        var succeeded = true
        do {
            let answer = try await handler(command)
            reply = Record(key: command.key.map(Array.init), value: answer.value, headers: answer.headers)
        } catch {
            if Task.isCancelled { return .success(.abandoned) }
            succeeded = false
            reply = Record(key: command.key.map(Array.init), value: Array(String(describing: error).utf8), headers: [])
        }
        reply.setHeader(.messageID, ReplyIdentity.messageID(forCommand: messageID))
        reply.setHeader(.correlationID, command.correlationID ?? messageID)
        reply.setHeader(.causationID, messageID)
        reply.setHeader(.replyStatus, succeeded ? "ok" : "error")
        if let deadline = command.headerString(.deadline) { reply.setHeader(.deadline, deadline) }
        if let step = command.headerString(.sagaStep) { reply.setHeader(.sagaStep, step) }
        do throws(StreamStoreError) {
            let offset = try await producer.send(reply).offset()
            // The commit that follows must never outlive a reply a crash could take back.
            if replyTopic.config.flush != .everyAppend { try await replyTopic.flush() }
            counts.withLock { $0.replied += 1 }
            metrics.replied.increment(by: 1)
            onEvent?(.replied(command: command, replyTopic: replyTo, offset: offset, succeeded: succeeded))
            return .success(.done)
        } catch {
            return .failure(MessagingError(error, correlationID: command.correlationID))
        }
    }

    private func invalid(_ command: StoredRecord, reason: String, onEvent: (@Sendable (ResponderEvent) -> Void)?) -> ConsumerLoop.Outcome {
        counts.withLock { $0.invalid += 1 }
        metrics.invalid.increment(by: 1)
        options.logger.warning("Cannot answer command \(consumer.topic.name)[\(command.partition)] offset \(command.offset): \(reason); committed without a reply.")
        onEvent?(.invalid(command: command, reason: reason))
        return .done
    }

    private func producer(for topic: String) throws(StreamStoreError) -> (Producer, Topic) {
        let store = replyStore
        return try producers.withLock { (producers) throws(StreamStoreError) -> (Producer, Topic) in
            if let existing = producers[topic] { return (existing, existing.topic) }
            // Not idempotent: its batches then pass the reply topic's de-duplication window,
            // which drops a second reply to the same command.
            let made = try store.producer(for: topic, options: Producer.Options(idempotent: false))
            producers[topic] = made
            return (made, made.topic)
        }
    }
}
