import StreamStore

/// The saga instances a store holds, read from the saga topics (`*.sagas`) without a manager:
/// for tools, and from a store opened read-only beside the service that runs the sagas.
public enum SagaCatalog {
    /// One instance of a saga.
    public struct Entry: Sendable, Equatable {
        /// The saga's name (its topic without `.sagas`).
        public var saga: String
        /// The instance, as its events leave it.
        public var instance: SagaInstance
    }

    /// One event of an instance's history.
    public struct HistoryEntry: Sendable, Equatable {
        /// The saga's name.
        public var saga: String
        /// Where the event lies in the saga topic.
        public var offset: Int64
        /// When it was appended, in milliseconds since the epoch.
        public var timestamp: Int64
        /// Its message id (`ID#N`).
        public var messageID: String?
        /// What caused it: a reply's message id, a command's (for a timeout), or the event before.
        public var causationID: String?
        /// The event.
        public var event: SagaEvent
    }

    /// The names of the sagas whose topics the store holds, sorted.
    public static func sagaNames(in store: Store) -> [String] {
        store.topicNames.filter { $0.hasSuffix(SagaDefinition.sagaTopicSuffix) && $0.count > SagaDefinition.sagaTopicSuffix.count }
            .map { String($0.dropLast(SagaDefinition.sagaTopicSuffix.count)) }
    }

    /// Every instance of every saga (or of `saga`), oldest first; those in `status` only when
    /// given. Folds the saga topics from their start (snapshots are not written).
    public static func instances(in store: Store, saga: String? = nil, status: SagaStatus? = nil) async throws(MessagingError) -> [Entry] {
        let names = try sagas(in: store, named: saga)
        var entries: [Entry] = []
        for name in names {
            let rebuilt = try await storeCall { () async throws(StreamStoreError) -> ProjectionResult<SagaProjection.State> in
                try await store.rebuild(SagaProjection(sagaName: name), from: SagaDefinition.topicName(forSaga: name), saveSnapshot: false)
            }
            for instance in rebuilt.state.instances.values where status == nil || instance.status == status {
                entries.append(Entry(saga: name, instance: instance))
            }
        }
        return entries.sorted { ($0.instance.startedMilliseconds, $0.saga, $0.instance.id) < ($1.instance.startedMilliseconds, $1.saga, $1.instance.id) }
    }

    /// The events of instance `id`, oldest first, found through the correlation filters of
    /// the saga topics (``/StreamStore/Store/trace(correlationID:topics:)``). Empty when no saga
    /// has such an instance.
    public static func history(of id: String, in store: Store, saga: String? = nil) throws(MessagingError) -> [HistoryEntry] {
        let names = try sagas(in: store, named: saga)
        guard !names.isEmpty else { return [] }
        let report = try storeCallNow { () throws(StreamStoreError) -> TraceReport in
            try store.trace(correlationID: id, topics: names.map { SagaDefinition.topicName(forSaga: $0) })
        }
        var entries: [HistoryEntry] = []
        for traced in report.records {
            let records = try storeCallNow { () throws(StreamStoreError) -> [StoredRecord] in
                try store.topic(traced.topic).read(partition: traced.partition, from: traced.offset, maxBytes: 1)
            }
            guard let record = records.first(where: { $0.offset == traced.offset }), let event = SagaProjection.event(of: record) else { continue }
            entries.append(HistoryEntry(
                saga: String(traced.topic.dropLast(SagaDefinition.sagaTopicSuffix.count)), offset: record.offset, timestamp: record.timestamp,
                messageID: record.messageID, causationID: record.causationID, event: event))
        }
        return entries.sorted { ($0.saga, $0.offset) < ($1.saga, $1.offset) }
    }

    private static func sagas(in store: Store, named saga: String?) throws(MessagingError) -> [String] {
        let names = sagaNames(in: store)
        guard let saga else { return names }
        guard names.contains(saga) else { throw MessagingError(.unknownSaga, "There is no saga \(saga): the store has no topic \(SagaDefinition.topicName(forSaga: saga)).") }
        return [saga]
    }
}
