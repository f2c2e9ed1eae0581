import Foundation
import StreamStoreFormat
import StreamStoreLog

/// A reader store's thread that turns the writer's publishes into wake-ups of its tailing
/// readers (docs/ARCHITECTURE.md, "How tailing wakes").
///
/// While some partition has a tailing reader waiting, the thread sleeps on the store's live
/// signal word (a futex shared with the writer process) and, each time the writer publishes,
/// lets every waiting partition read its published end again: those whose end moved wake their
/// readers. With nobody waiting it sleeps on a local semaphore instead, so a reader process
/// that only replays costs the writer's publishes nothing. The futex sleep is cut at
/// ``Limits/liveWaitSliceMilliseconds``, so a writer that appears, restarts or exits is noticed
/// within that time even if no publish wakes the thread.
final class LiveWatcher: @unchecked Sendable {
    private weak var store: Store?
    private let kick = DispatchSemaphore(value: 0)
    private let stopped = Locked(false)

    /// Starts the thread for `store`, which it holds weakly: a dropped store ends it.
    func start(watching store: Store) {
        self.store = store
        let thread = Thread { [self] in run() }
        thread.name = "streamstore-live-watcher"
        thread.start()
    }

    /// Called when a tailing reader starts to wait: the thread begins watching the writer.
    @Sendable func readerWaits() { kick.signal() }

    func stop() {
        stopped.withLock { $0 = true }
        kick.signal()
    }

    private func run() {
        while !stopped.withLock({ $0 }) {
            guard let store else { return }
            store.refreshTopicsIfChanged()
            let partitions = store.partitionsWithTailWaiters()
            if partitions.isEmpty {
                _ = kick.wait(timeout: .now() + .seconds(1))
                continue
            }
            guard let live = store.live.withLock({ $0 }) else {
                // No writer has opened the store yet: look again shortly.
                for partition in partitions { partition.refreshFromWriter() }
                _ = kick.wait(timeout: .now() + .milliseconds(Int(Limits.liveWaitSliceMilliseconds)))
                if let opened = try? LiveStoreFile.openForReading(storeFolder: store.path, fileSystem: store.options.fileSystem) {
                    store.live.withLock { $0 = $0 ?? opened }
                }
                continue
            }
            // The value is read before the ends: a publish after this read changes the word, so
            // the wait below returns at once instead of missing it.
            let value = live.signalValue
            for partition in partitions { partition.refreshFromWriter() }
            live.wait(whileSignalIs: value, timeoutNanoseconds: Limits.liveWaitSliceMilliseconds * 1_000_000)
        }
    }
}

extension Store {
    /// The partitions (of every topic) whose readers wait for the log to grow.
    func partitionsWithTailWaiters() -> [Partition] {
        let topics = state.withLock { Array($0.topics.values) }
        return topics.flatMap { $0.partitions.filter(\.hasTailWaiters) }
    }
}
