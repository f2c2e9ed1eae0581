import StreamStoreFormat
import StreamStoreLog
import CoreMetrics


/// Where one store's metric handles come from: the factory of ``Store/Options/metricsFactory``,
/// or the globally bootstrapped one, read once when the store opens.
///
/// Handles are made when a partition, topic or group first needs them, never on the append
/// path, and never destroyed: a factory returns the same series for the same name and labels,
/// so a store reopened in the same process (as `replay --follow` does every session) goes on
/// counting where it stopped, and a scrape between two opens still finds every series.
final class StoreMetrics: Sendable {
    let factory: any MetricsFactory
    /// Dead letters are rare: their counters are made on the first one of each topic.
    private let deadLetters = Locked<[String: any CounterHandler]>([:])

    init(factory: (any MetricsFactory)?) {
        self.factory = factory ?? MetricsSystem.factory
    }

    func partition(topic: String, partition: Int) -> PartitionMetrics {
        PartitionMetrics(factory: factory, topic: topic, partition: partition)
    }

    func topic(_ name: String) -> TopicMetrics {
        TopicMetrics(dedupeHits: factory.makeCounter(label: MetricName.dedupeHits, dimensions: [("topic", name)]))
    }

    /// Counts one record of `topic` given up on and appended to its dead-letter topic
    /// (`Consumer.process`, once the dead letter is durable).
    func recordDeadLetter(topic: String) {
        let counter = deadLetters.withLock { counters in
            if let counter = counters[topic] { return counter }
            let counter = factory.makeCounter(label: MetricName.deadLetters, dimensions: [("topic", topic)])
            counters[topic] = counter
            return counter
        }
        counter.increment(by: 1)
    }
}

/// The metric handles of one topic.
struct TopicMetrics: Sendable {
    /// Records left out of appends because their `message-id` was in the de-duplication window
    /// (or earlier in the same batch).
    let dedupeHits: any CounterHandler
}
