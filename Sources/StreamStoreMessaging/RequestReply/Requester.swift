import CoreMetrics
import Foundation
import StreamStore

/// Asks another service something through the log and waits for its answer: sends a command
/// with `reply-to`, `correlation-id` and `deadline` headers and awaits the reply that carries
/// the same correlation id (docs/MESSAGING.md).
///
/// ```swift
/// let requester = try Requester(store: store, options: Requester.Options(replyTopic: "checkout.replies"))
/// let reply = try await requester.request(Record(key: "sku-1", value: #"{"sku":"sku-1","count":2}"#), to: "stock", timeout: .seconds(5))
/// print(reply.valueString ?? "")
/// ```
///
/// One reader tails the reply topic for every request of the requester, however many wait at
/// once, and hands each reply to the call waiting for its correlation id. A reply nobody waits
/// for yet is kept until its deadline (at most `Limits.maxBufferedReplies`), so a requester that
/// restarted after a crash collects the replies to requests its predecessor sent with
/// ``reply(to:timeout:)``: the reader starts ``Options/lookbackMilliseconds`` back in the
/// reply topic. A reply appended after its deadline is late: dropped and counted
/// (``Statistics/lateReplies``). Give each requester a reply topic of its own.
///
/// Safe to use from many tasks at once.
public final class Requester: Sendable {
    /// How a requester names its replies and how far back it looks.
    public struct Options: Sendable {
        /// The topic replies come to (created with one partition and a one-hour de-duplication
        /// window when missing, so a responder's retried reply is written once).
        public var replyTopic: String
        /// How far back in the reply topic the reader starts, in milliseconds: replies to
        /// requests sent that long before this requester started can still be collected.
        public var lookbackMilliseconds: Int64
        /// Where the time comes from (deadlines, lateness).
        public var clock: any StoreClock
        /// Where metrics go (nil: the globally bootstrapped factory).
        public var metricsFactory: (any MetricsFactory)?

        /// Options for replies on `replyTopic`, looking back 10 minutes at start.
        public init(replyTopic: String, lookbackMilliseconds: Int64 = 600_000, clock: any StoreClock = SystemClock(), metricsFactory: (any MetricsFactory)? = nil) {
            self.replyTopic = replyTopic
            self.lookbackMilliseconds = lookbackMilliseconds
            self.clock = clock
            self.metricsFactory = metricsFactory
        }
    }

    /// Counts since the requester was made.
    public struct Statistics: Sendable, Equatable {
        /// Replies handed to a waiting call.
        public var replies = 0
        /// Requests whose deadline passed without a reply.
        public var timeouts = 0
        /// Replies appended after their deadline, dropped.
        public var lateReplies = 0
        /// Replies dropped because the buffer of unclaimed replies was full.
        public var droppedReplies = 0
    }

    /// A command on its way: what ``send(_:to:timeout:)`` returns, enough to collect its reply,
    /// also from another requester on the same reply topic after a restart.
    public struct SentRequest: Sendable, Equatable {
        /// The command's correlation id, which its reply carries.
        public var correlationID: String
        /// The command's message id, which its reply names as its causation id.
        public var messageID: String
        /// The command's deadline, in milliseconds since the epoch.
        public var deadlineMilliseconds: Int64
        /// Where the command was appended.
        public var offset: RecordOffset
    }

    /// The options it was made with.
    public let options: Options
    private let store: Store
    private let replyTopic: Topic
    private let metrics: RequesterMetrics
    private let producers = Locked<[String: Producer]>([:])
    private let table: ReplyTable
    private let reader = Locked<Task<Void, Never>?>(nil)

    /// A requester that sends commands to `store`'s topics and reads replies from
    /// `options.replyTopic` of `replyStore` (default: the same store; created there when missing
    /// and the store is writable); its reader starts at once.
    ///
    /// One process writes a store, so requester and responder in two processes each write their
    /// own: the requester's process writes the commands to its store, the responder's reads them
    /// (opened read-only, its group's commits work there) and writes the replies to its store,
    /// which the requester's process opens read-only as `replyStore`.
    public init(store: Store, replyStore: Store? = nil, options: Options) throws(MessagingError) {
        guard options.lookbackMilliseconds >= 0 else {
            throw MessagingError(.invalidDefinition, "lookbackMilliseconds must not be negative, not \(options.lookbackMilliseconds).")
        }
        self.store = store
        self.options = options
        let name = options.replyTopic
        let replies = replyStore ?? store
        replyTopic = try storeCallNow { () throws(StreamStoreError) -> Topic in
            if replies.isReadOnly || replies.topicNames.contains(name) { return try replies.topic(name) }
            return try replies.createTopic(name, config: TopicConfig(partitionCount: 1, dedupeWindowMilliseconds: 3_600_000))
        }
        metrics = RequesterMetrics(factory: options.metricsFactory ?? MetricsSystem.factory, replyTopic: name)
        table = ReplyTable(clock: options.clock, metrics: metrics, lookbackMilliseconds: options.lookbackMilliseconds)
        let startMilliseconds = options.clock.nowMilliseconds()
        let (topic, table, lookback) = (replyTopic, table, options.lookbackMilliseconds)
        table.readerStarted(atMilliseconds: startMilliseconds)
        reader.withLock { reader in
            reader = Task {
                let replay = topic.replay(options: ReplayOptions(from: .timestamp(startMilliseconds - lookback), follow: true))
                do throws(StreamStoreError) {
                    for try await record in replay { table.deliver(record) }
                } catch {
                    table.fail(MessagingError(error))
                }
            }
        }
    }

    deinit { reader.withLock { $0 }?.cancel() }

    /// Sends `command` to `topic` and waits for its reply, at most `timeout`.
    ///
    /// The command gets a `reply-to` (this requester's reply topic), a `correlation-id` (its own,
    /// or a new UUID when it has none), a `message-id` (its own, or a new UUID) and a
    /// `deadline` (now plus `timeout`). Throws ``MessagingError/Code/timeout`` when no reply came
    /// in time, ``MessagingError/Code/cancelled`` when the task was cancelled (the reply, should it
    /// come, is kept for ``reply(to:timeout:)`` until the deadline),
    /// ``MessagingError/Code/remoteFailure`` when the responder's handler failed,
    /// ``MessagingError/Code/duplicateRequest`` when a request with the same correlation id is
    /// waiting, and ``MessagingError/Code/store`` when the command could not be appended.
    public func request(_ command: Record, to topic: String, timeout: Duration) async throws(MessagingError) -> StoredRecord {
        let sent = try await send(command, to: topic, timeout: timeout)
        return try await table.wait(for: sent.correlationID, deadlineMilliseconds: sent.deadlineMilliseconds)
    }

    /// Sends `command` as ``request(_:to:timeout:)`` does and returns once it is appended,
    /// without waiting for the reply: collect it with ``reply(to:timeout:)``.
    public func send(_ command: Record, to topic: String, timeout: Duration) async throws(MessagingError) -> SentRequest {
        var command = command
        let correlationID = command.correlationID ?? UUID().uuidString.lowercased()
        let messageID = command.messageID ?? UUID().uuidString.lowercased()
        let deadline = options.clock.nowMilliseconds() + Self.milliseconds(timeout)
        command.setHeader(.correlationID, correlationID)
        command.setHeader(.messageID, messageID)
        command.setHeader(.replyTo, replyTopic.name)
        command.setHeader(.deadline, String(deadline))
        let producer = try producer(for: topic)
        try table.reserve(correlationID, messageID: messageID)
        do {
            let offset = try await storeCall(correlationID: correlationID) { () async throws(StreamStoreError) -> RecordOffset in
                try await producer.send(command).offset()
            }
            return SentRequest(correlationID: correlationID, messageID: messageID, deadlineMilliseconds: deadline, offset: offset)
        } catch {
            table.unreserve(correlationID)
            throw error
        }
    }

    /// Waits for the reply with `correlationID`, at most `timeout`: a request this requester sent
    /// (``send(_:to:timeout:)``), or one sent before a restart by a requester on the same reply
    /// topic. A reply that came already is returned at once. Throws as
    /// ``request(_:to:timeout:)`` does.
    public func reply(to correlationID: String, timeout: Duration) async throws(MessagingError) -> StoredRecord {
        try await table.wait(for: correlationID, deadlineMilliseconds: options.clock.nowMilliseconds() + Self.milliseconds(timeout))
    }

    /// Requests waiting for their replies now.
    public var requestsInFlight: Int { table.inFlight }

    /// What the requester counted so far.
    public var statistics: Statistics { table.statistics }

    /// Stops the reader and fails every waiting request with ``MessagingError/Code/closed``;
    /// closes its producers (sending what they hold first).
    public func close() async {
        reader.withLock { $0 }?.cancel()
        table.close()
        let producers = producers.withLock { $0.values }
        for producer in producers { try? await producer.close() }
    }

    private func producer(for topic: String) throws(MessagingError) -> Producer {
        let store = store
        return try storeCallNow { () throws(StreamStoreError) -> Producer in
            try producers.withLock { (producers) throws(StreamStoreError) -> Producer in
                if let existing = producers[topic] { return existing }
                // Not idempotent: its batches then pass the topic's de-duplication window, which
                // keeps a command sent again after a restart (same message id) out of the topic.
                let made = try store.producer(for: topic, options: Producer.Options(idempotent: false))
                producers[topic] = made
                return made
            }
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
