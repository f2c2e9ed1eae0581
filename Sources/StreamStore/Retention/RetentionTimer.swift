import StreamStoreFormat
import StreamStoreLog
import Dispatch

/// Runs retention on every topic of a store at an interval, off the caller's threads, until
/// stopped (at store close). Holds the store's topics weakly, so it never keeps a store alive.
/// Unchecked: a dispatch source is safe to cancel from any thread, and nothing else changes.
final class RetentionTimer: @unchecked Sendable {
    private let timer: any DispatchSourceTimer
    private let queue = DispatchQueue(label: "streamstore.retention")

    init(intervalMilliseconds: Int64, directory: any TopicDirectory) {
        let directory = WeakTopicDirectory(directory)
        timer = DispatchSource.makeTimerSource(queue: queue)
        let interval = DispatchTimeInterval.milliseconds(Int(intervalMilliseconds))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(Int(min(intervalMilliseconds / 10, 10_000))))
        timer.setEventHandler {
            guard let store = directory.current else { return }
            do throws(StreamStoreError) {
                let reports = try store.applyRetention(topics: nil, dryRun: false)
                let deleted = reports.reduce(0) { $0 + $1.deleted.count }
                if deleted > 0 { store.options.logger.debug("Background retention deleted \(deleted) segment(s).") }
            } catch {
                if error.code != .storeClosed { store.options.logger.error("Background retention failed: \(error)") }
            }
        }
        timer.resume()
    }

    /// Cancels the timer and waits for a run under way to finish.
    func stop() {
        timer.cancel()
        queue.sync {}
    }
}
