import NIOCore
import StreamStoreFormat

/// The requests of one connection that wait for their answers, by correlation id.
final class PendingRequests: Sendable {
    let address: String
    private let state = Locked(State())

    private struct Waiting {
        var promise: EventLoopPromise<ByteBuffer>
        var timer: Scheduled<Void>?
    }

    private struct State {
        var waiting: [Int32: Waiting] = [:]
        var nextCorrelationId: Int32 = 1
        var failure: KafkaClientError?
    }

    init(address: String) { self.address = address }

    /// A fresh correlation id whose answer completes `promise`, or nil (and the promise failed
    /// with the connection's failure) when the connection already broke.
    func register(_ promise: EventLoopPromise<ByteBuffer>) -> Int32? {
        let outcome: (Int32?, KafkaClientError?) = state.withLock { state in
            if let failure = state.failure { return (nil, failure) }
            let id = state.nextCorrelationId
            state.nextCorrelationId = id == Int32.max ? 1 : id + 1
            state.waiting[id] = Waiting(promise: promise)
            return (id, nil)
        }
        if let failure = outcome.1 { promise.fail(failure) }
        return outcome.0
    }

    /// The timer that fails request `id` when its answer is late.
    func setTimer(_ id: Int32, _ timer: Scheduled<Void>) {
        let answered = state.withLock { state in
            guard state.waiting[id] != nil else { return true }
            state.waiting[id]?.timer = timer
            return false
        }
        if answered { timer.cancel() }
    }

    func deliver(_ frame: ByteBuffer) {
        var frame = frame
        guard let id = frame.readInteger(as: Int32.self) else { return }
        guard let waiting = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return }
        waiting.timer?.cancel()
        waiting.promise.succeed(frame)
    }

    func fail(_ id: Int32, _ error: KafkaClientError) {
        guard let waiting = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return }
        waiting.timer?.cancel()
        waiting.promise.fail(error)
    }

    func failAll(_ error: KafkaClientError) {
        let waiting = state.withLock { state in
            if state.failure == nil { state.failure = error }
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for entry in waiting {
            entry.timer?.cancel()
            entry.promise.fail(error)
        }
    }

    var isBroken: Bool { state.withLock { $0.failure != nil } }
}
