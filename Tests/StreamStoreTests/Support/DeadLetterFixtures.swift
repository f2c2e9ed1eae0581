import Foundation
import Logging
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// A failure a test handler throws on purpose.
struct HandlerFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A failure that retrying cannot fix, as a handler's own type.
struct UnknownCustomer: NonRetriableError, CustomStringConvertible {
    var id: String
    var description: String { "unknown customer \(id)" }
}

/// A retry policy without jitter, so waits are exact.
func exactRetry(maxAttempts: Int, initialBackoffMilliseconds: Int64 = 10) -> RetryPolicy {
    RetryPolicy(maxAttempts: maxAttempts, initialBackoffMilliseconds: initialBackoffMilliseconds, jitterFraction: 0)
}

extension StoreFixture {
    /// Appends orders `first..<first + count` to `partition`: value "order-N", key
    /// "customer-N", headers message-id "m-P-N" and correlation-id "c-N".
    func appendOrders(_ topic: Topic, count: Int, partition: Int = 0, first: Int = 0) async throws {
        let records = (first..<(first + count)).map { index in
            Record(
                key: "customer-\(index)", value: "order-\(index)",
                headers: [RecordHeader(.messageID, "m-\(partition)-\(index)"), RecordHeader(.correlationID, "c-\(index)")])
        }
        _ = try await topic.append(records, partition: partition)
    }

    /// Every record of `topic`'s dead-letter topic, partition 0; empty when it has none.
    func deadLetterRecords(of topic: String) throws -> [StoredRecord] {
        let store = try #require(store)
        guard store.topicNames.contains(topic + ".dlq") else { return [] }
        return try readAll(try store.topic(topic + ".dlq"))
    }
}

/// Stands in for `Task.sleep` in `process`: remembers each wait and returns at once.
final class RecordedSleeps: @unchecked Sendable {
    private let lock = NSLock()
    private var waits: [Int64] = []

    var milliseconds: [Int64] { lock.withLock { waits } }

    func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        lock.withLock { waits.append(seconds * 1000 + attoseconds / 1_000_000_000_000_000) }
    }
}

/// swift-log's messages kept in memory, so tests can read what the store logged.
final class RecordedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(level: Logger.Level, message: String)] = []

    var messages: [(level: Logger.Level, message: String)] { lock.withLock { entries } }

    func add(_ level: Logger.Level, _ message: String) { lock.withLock { entries.append((level, message)) } }

    /// A logger whose messages land here.
    var logger: Logger {
        var logger = Logger(label: "streamstore-tests") { _ in Handler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    struct Handler: LogHandler {
        let log: RecordedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { log.add(event.level, "\(event.message)") }
    }
}
