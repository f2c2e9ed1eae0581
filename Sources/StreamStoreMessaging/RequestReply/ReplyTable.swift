import Foundation
import StreamStore

/// A requester's requests and replies: who waits for which correlation id, and the replies
/// that came before anyone asked. One lock guards it; continuations resume outside it.
final class ReplyTable: Sendable {
    typealias Outcome = Result<StoredRecord, MessagingError>

    private struct Slot {
        /// When the request was sent, for the reply latency (monotonic nanoseconds).
        var sentNanoseconds: UInt64
        /// The command's message id, when known: a reply must name it as its causation id.
        var expectedCausationID: String?
        /// A reply that came before the caller started waiting.
        var early: StoredRecord?
        var waiter: CheckedContinuation<Outcome, Never>?
        var token = 0
        var timer: Task<Void, Never>?
    }

    private struct Buffered {
        var record: StoredRecord
        var expiresMilliseconds: Int64
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var buffered: [String: Buffered] = [:]
        /// Buffered ids, oldest first (ids claimed since may still be listed; `head` skips the
        /// consumed prefix).
        var order: [String] = []
        var head = 0
        var nextToken = 1
        var statistics = Requester.Statistics()
        var readerStartMilliseconds: Int64 = 0
        var failure: MessagingError?
    }

    private let state = Locked(State())
    private let clock: any StoreClock
    private let metrics: RequesterMetrics
    private let lookbackMilliseconds: Int64

    init(clock: any StoreClock, metrics: RequesterMetrics, lookbackMilliseconds: Int64 = 600_000) {
        self.clock = clock
        self.metrics = metrics
        self.lookbackMilliseconds = lookbackMilliseconds
    }

    func readerStarted(atMilliseconds start: Int64) {
        state.withLock { $0.readerStartMilliseconds = start }
    }

    var inFlight: Int { state.withLock { $0.slots.count } }
    var statistics: Requester.Statistics { state.withLock { $0.statistics } }

    /// Claims `correlationID` for a request about to be sent, whose reply must name
    /// `messageID` as its cause.
    func reserve(_ correlationID: String, messageID: String) throws(MessagingError) {
        let count = try state.withLock { (state) throws(MessagingError) -> Int in
            if let failure = state.failure { throw failure }
            guard state.slots[correlationID] == nil else {
                throw MessagingError(.duplicateRequest, "A request with correlation id \(correlationID) is waiting for its reply already.", correlationID: correlationID)
            }
            state.slots[correlationID] = Slot(sentNanoseconds: DispatchTime.now().uptimeNanoseconds, expectedCausationID: messageID)
            return state.slots.count
        }
        metrics.inFlight.record(Int64(count))
    }

    /// Gives up a reservation whose command could not be sent.
    func unreserve(_ correlationID: String) {
        let count = state.withLock { state in
            state.slots[correlationID] = nil
            return state.slots.count
        }
        metrics.inFlight.record(Int64(count))
    }

    /// Waits for the reply to `correlationID` until `deadlineMilliseconds`.
    func wait(for correlationID: String, deadlineMilliseconds: Int64) async throws(MessagingError) -> StoredRecord {
        let token = state.withLock { state in
            defer { state.nextToken += 1 }
            return state.nextToken
        }
        let outcome: Outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let immediate = register(correlationID, token: token, continuation: continuation)
                if let immediate {
                    continuation.resume(returning: immediate)
                    return
                }
                let remaining = max(0, deadlineMilliseconds - clock.nowMilliseconds())
                let timer = Task { [self] in
                    try? await Task.sleep(for: .milliseconds(remaining))
                    guard !Task.isCancelled else { return }
                    let waited = remaining > 0 ? "in the \(remaining) ms waited" : "which had already come when the wait began"
                    finish(correlationID, token: token, .failure(MessagingError(
                        .timeout,
                        "No reply to request \(correlationID) came before its deadline (\(deadlineMilliseconds) ms after the Unix epoch), \(waited).",
                        correlationID: correlationID)))
                }
                attach(timer, to: correlationID, token: token)
            }
        } onCancel: {
            finish(correlationID, token: token, .failure(MessagingError(.cancelled, "The request \(correlationID) was cancelled while waiting for its reply.", correlationID: correlationID)))
        }
        return try outcome.get()
    }

    /// Registers a waiter; returns its outcome when it is known at once.
    private func register(_ correlationID: String, token: Int, continuation: CheckedContinuation<Outcome, Never>) -> Outcome? {
        let (outcome, count): (Outcome?, Int) = state.withLock { state in
            if let failure = state.failure { return (.failure(failure), state.slots.count) }
            var slot = state.slots[correlationID] ?? Slot(sentNanoseconds: DispatchTime.now().uptimeNanoseconds)
            if slot.waiter != nil {
                return (.failure(MessagingError(.duplicateRequest, "A call is waiting for the reply to \(correlationID) already.", correlationID: correlationID)), state.slots.count)
            }
            let ready = slot.early ?? Self.claimBuffered(correlationID, causation: slot.expectedCausationID, in: &state)
            if let ready {
                state.slots[correlationID] = nil
                Self.counted(ready, slot: slot, in: &state, metrics: metrics)
                return (Self.outcome(of: ready), state.slots.count)
            }
            if Task.isCancelled {
                state.slots[correlationID] = nil
                return (.failure(MessagingError(.cancelled, "The request \(correlationID) was cancelled before its reply came.", correlationID: correlationID)), state.slots.count)
            }
            slot.waiter = continuation
            slot.token = token
            state.slots[correlationID] = slot
            return (nil, state.slots.count)
        }
        metrics.inFlight.record(Int64(count))
        return outcome
    }

    private func attach(_ timer: Task<Void, Never>, to correlationID: String, token: Int) {
        let attached = state.withLock { state in
            guard state.slots[correlationID]?.token == token else { return false }
            state.slots[correlationID]?.timer = timer
            return true
        }
        if !attached { timer.cancel() }
    }

    /// Ends the wait of `token` on `correlationID` with `outcome`, unless it ended already.
    private func finish(_ correlationID: String, token: Int, _ outcome: Outcome) {
        let (waiter, timer, count): (CheckedContinuation<Outcome, Never>?, Task<Void, Never>?, Int) = state.withLock { state in
            guard let slot = state.slots[correlationID], slot.token == token, let waiter = slot.waiter else { return (nil, nil, state.slots.count) }
            state.slots[correlationID] = nil
            if case .failure(let error) = outcome, error.code == .timeout { state.statistics.timeouts += 1 }
            return (waiter, slot.timer, state.slots.count)
        }
        guard let waiter else { return }
        timer?.cancel()
        if case .failure(let error) = outcome, error.code == .timeout { metrics.timeouts.increment(by: 1) }
        metrics.inFlight.record(Int64(count))
        waiter.resume(returning: outcome)
    }

    /// Hands a reply read from the reply topic to its waiter, or keeps it until its deadline.
    func deliver(_ record: StoredRecord) {
        guard let correlationID = record.correlationID else { return }
        let now = clock.nowMilliseconds()
        let deadline = record.deadlineMilliseconds
        enum Action { case none, late, dropped, resume(CheckedContinuation<Outcome, Never>, Task<Void, Never>?, Int) }
        let action: Action = state.withLock { state in
            if let deadline, record.timestamp > deadline {
                // Replies read again after a restart were counted by the requester before it.
                guard record.timestamp >= state.readerStartMilliseconds else { return .none }
                state.statistics.lateReplies += 1
                return .late
            }
            if var slot = state.slots[correlationID], slot.expectedCausationID == nil || slot.expectedCausationID == record.causationID {
                guard let waiter = slot.waiter else {
                    if slot.early == nil { slot.early = record }
                    state.slots[correlationID] = slot
                    return .none
                }
                state.slots[correlationID] = nil
                Self.counted(record, slot: slot, in: &state, metrics: metrics)
                return .resume(waiter, slot.timer, state.slots.count)
            }
            let expires = deadline ?? (record.timestamp + lookbackMilliseconds)
            guard expires >= now else { return .none }
            return Self.buffer(record, id: correlationID, expires: expires, now: now, in: &state) ? .none : .dropped
        }
        switch action {
        case .none: break
        case .late: metrics.lateReplies.increment(by: 1)
        case .dropped: metrics.droppedReplies.increment(by: 1)
        case .resume(let waiter, let timer, let count):
            timer?.cancel()
            metrics.inFlight.record(Int64(count))
            waiter.resume(returning: Self.outcome(of: record))
        }
    }

    /// Keeps `record` for a later wait; false when the buffer was full and a reply (the oldest)
    /// had to go.
    private static func buffer(_ record: StoredRecord, id: String, expires: Int64, now: Int64, in state: inout State) -> Bool {
        var droppedOne = false
        if state.buffered[id] == nil { state.order.append(id) }
        state.buffered[id] = Buffered(record: record, expiresMilliseconds: expires)
        while state.buffered.count > Limits.maxBufferedReplies, state.head < state.order.count {
            let oldest = state.order[state.head]
            state.head += 1
            guard let entry = state.buffered[oldest] else { continue }
            state.buffered[oldest] = nil
            if entry.expiresMilliseconds >= now {
                droppedOne = true
                state.statistics.droppedReplies += 1
            }
        }
        if state.head > 4096, state.head * 2 > state.order.count {
            state.order = state.order[state.head...].filter { state.buffered[$0] != nil }
            state.head = 0
        }
        return !droppedOne
    }

    private static func claimBuffered(_ id: String, causation: String?, in state: inout State) -> StoredRecord? {
        guard let entry = state.buffered[id], causation == nil || entry.record.causationID == causation else { return nil }
        state.buffered[id] = nil
        return entry.record
    }

    private static func counted(_ record: StoredRecord, slot: Slot, in state: inout State, metrics: RequesterMetrics) {
        state.statistics.replies += 1
        let elapsed = DispatchTime.now().uptimeNanoseconds &- slot.sentNanoseconds
        metrics.latency.recordNanoseconds(Int64(clamping: elapsed))
    }

    private static func outcome(of reply: StoredRecord) -> Outcome {
        if reply.replySucceeded == false {
            return .failure(MessagingError(.remoteFailure, reply.valueString ?? "the responder failed", correlationID: reply.correlationID))
        }
        return .success(reply)
    }

    /// Fails every waiter, and every later wait, with `error` (the reader stopped).
    func fail(_ error: MessagingError) {
        let waiters: [(CheckedContinuation<Outcome, Never>, Task<Void, Never>?)] = state.withLock { state in
            if state.failure == nil { state.failure = error }
            let waiting = state.slots.values.compactMap { slot in slot.waiter.map { ($0, slot.timer) } }
            state.slots = state.slots.filter { $0.value.waiter == nil }
            return waiting
        }
        for (waiter, timer) in waiters {
            timer?.cancel()
            waiter.resume(returning: .failure(error))
        }
        metrics.inFlight.record(Int64(inFlight))
    }

    func close() {
        fail(MessagingError(.closed, "The requester was closed."))
    }
}
