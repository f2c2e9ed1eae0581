import Dispatch
import StreamStore

/// Runs an async engine call to its end from the synchronous fuzz entry point.
///
/// libFuzzer calls the target on its own thread; the call runs as a task on the cooperative
/// pool while that thread waits. With flush policy `.never` an append never suspends for long.
public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws(StreamStoreError) -> T) throws(StreamStoreError) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do throws(StreamStoreError) { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// Carries the task's result to the waiting thread. Safe to send: written once by the task
/// before it signals, read only after the wait returns.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, StreamStoreError>?
}
