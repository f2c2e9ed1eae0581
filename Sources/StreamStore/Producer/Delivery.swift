import StreamStoreFormat
import StreamStoreLog

/// A record handed to `Producer.send(_:)`: await ``offset()`` to learn where it was appended
/// (once it is as durable as the topic's flush policy promises), or that it was not.
public struct Delivery: Sendable {
    let batch: BatchOutcome
    let index: Int

    /// The record's partition and offset once its batch is appended; the append's error if it
    /// failed after the producer's retries.
    public func offset() async throws(StreamStoreError) -> RecordOffset {
        let receipt = try await batch.receipt()
        let place = receipt.offset(ofRecordAt: index)
        return RecordOffset(partition: place.partition, offset: place.offset)
    }
}

/// The outcome of one batch a producer sends, awaited by the deliveries of its records.
final class BatchOutcome: Sendable {
    private enum State {
        case pending([CheckedContinuation<Result<AppendReceipt, StreamStoreError>, Never>])
        case done(Result<AppendReceipt, StreamStoreError>)
    }

    private let state = Locked(State.pending([]))

    func receipt() async throws(StreamStoreError) -> AppendReceipt {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<AppendReceipt, StreamStoreError>, Never>) in
            let ready: Result<AppendReceipt, StreamStoreError>? = state.withLock { state in
                switch state {
                case .done(let result): return result
                case .pending(var waiters):
                    waiters.append(continuation)
                    state = .pending(waiters)
                    return nil
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
        return try result.get()
    }

    func finish(_ result: Result<AppendReceipt, StreamStoreError>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Result<AppendReceipt, StreamStoreError>, Never>] in
            guard case .pending(let waiters) = state else { return [] }
            state = .done(result)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: result) }
    }
}
