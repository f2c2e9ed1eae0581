import StreamStoreFormat
import StreamStoreLog

/// What the features built on a store (consumer groups, retention, trace, projections) need of
/// it: its topics, the options it was opened with, and whether it is still open.
///
/// ``Store`` conforms. The features see the store only through this, so none of them can reach
/// its state or its lock; a consumer group and the retention timer hold their directory weakly,
/// so neither keeps a dropped store alive, and once the store is closed (or gone) every call
/// through the directory fails with `.storeClosed`.
protocol TopicDirectory: AnyObject, Sendable {
    /// The store's folder.
    var path: String { get }
    /// The file system, clock and logger the store runs with.
    var options: Store.Options { get }
    /// The store's metric handles.
    var metrics: StoreMetrics { get }
    /// False once the store is closed.
    var isOpen: Bool { get }
    /// The topic called `name`; `.unknownTopic`, or `.storeClosed` once closed.
    func topic(_ name: String) throws(StreamStoreError) -> Topic
    /// Every topic, sorted by name; `.storeClosed` once closed.
    func allTopics() throws(StreamStoreError) -> [Topic]
    /// `topic`'s dead-letter topic, made on first use.
    func deadLetterTopic(for topic: String) throws(StreamStoreError) -> Topic
}

extension TopicDirectory {
    /// The topics called `names`, or every topic when `names` is nil.
    func topics(named names: [String]?) throws(StreamStoreError) -> [Topic] {
        guard let names else { return try allTopics() }
        return try names.map { (name) throws(StreamStoreError) in try topic(name) }
    }
}

/// A directory held weakly: a feature that outlives one call keeps one of these, never the store.
struct WeakTopicDirectory: Sendable {
    private weak let directory: (any TopicDirectory)?

    init(_ directory: any TopicDirectory) {
        self.directory = directory
    }

    /// The directory while its store is open; `.storeClosed` once it is closed or dropped.
    func open() throws(StreamStoreError) -> any TopicDirectory {
        guard let directory, directory.isOpen else { throw StreamStoreError(.storeClosed, "The store is closed.") }
        return directory
    }

    /// The directory whatever its state, or nil once the store is dropped.
    var current: (any TopicDirectory)? { directory }
}

extension Store: TopicDirectory {
    var isOpen: Bool { !isClosed }

    func allTopics() throws(StreamStoreError) -> [Topic] {
        try withOpenState { state in state.topics.sorted { $0.key < $1.key }.map(\.value) }
    }
}
