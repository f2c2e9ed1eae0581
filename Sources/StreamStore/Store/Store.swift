import StreamStoreFormat
import StreamStoreLog
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CoreMetrics
import Logging

/// A store: one folder of topics, opened by one process at a time.
///
/// ```swift
/// let store = try Store.open(at: "/var/lib/orders-service/events")
/// let orders = try store.createTopic("orders", config: TopicConfig(partitionCount: 8))
/// let receipts = try await orders.append([Record(key: "customer-17", value: #"{"type":"order-placed"}"#)])
/// try store.close()
/// ```
///
/// Opening takes an exclusive lock on `store.lock` (a second opener, in this process or
/// another, gets `.storeLocked`) and, after an unclean shutdown, recovers every partition:
/// ``recoveries`` says what was scanned and truncated. Call ``close()`` to shut down cleanly, so
/// the next open skips recovery.
public final class Store: Sendable {
    /// How a store is opened.
    public struct Options: Sendable {
        /// Where the store logs (recovery, rolls, failures). The store never creates its own.
        public var logger: Logger
        /// Where the store reads the time; inject a fake one in tests.
        public var clock: any StoreClock
        /// Create the folder when it does not exist (else `.notAStore`).
        public var createIfMissing: Bool
        /// Most sealed segments with open files at once.
        public var openSegmentFilesLimit: Int
        /// How often retention runs in the background while the store is open (default 5
        /// minutes; nil: only when ``Store/enforceRetention(topic:dryRun:)`` is called).
        public var retentionCheckMilliseconds: Int64?
        /// Where the store's metrics go (README, "Metrics and logging"). Nil, the default, means
        /// the factory the application bootstrapped with `MetricsSystem.bootstrap`, read when
        /// the store opens (no-op if it never bootstrapped one), as swift-metrics libraries do.
        /// Give a factory to keep one store's metrics apart, as tests do with `TestMetrics`.
        public var metricsFactory: (any MetricsFactory)?
        /// Keep a correlation filter per sealed segment (`.cfilter`, built in the background when
        /// a segment rolls), so ``Store/trace(correlationID:topics:)`` skips the segments that
        /// cannot hold an id. Default on. Off, nothing builds, reads or writes filters, and a
        /// trace scans every segment.
        public var usesCorrelationFilters: Bool
        /// Whether this process writes the store or only reads it (default: writes). Any number
        /// of processes may open a store ``AccessMode/readOnly`` beside the one writer.
        public var mode: AccessMode
        /// Who may read what this process creates in the store (default: its owner only). With
        /// ``Permissions/groupReadable``, reader processes running as other users of the store
        /// folder's group can open it read-only.
        public var permissions: Permissions
        var fileSystem: FileSystem = PosixFileSystem.shared

        /// Options with the defaults: no logging, the system clock, a folder created when missing,
        /// retention every 5 minutes, the bootstrapped metrics factory, correlation filters on.
        public init(
            logger: Logger = Logger(label: "streamstore", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: any StoreClock = SystemClock(), createIfMissing: Bool = true,
            openSegmentFilesLimit: Int = Limits.defaultOpenSegmentFiles,
            retentionCheckMilliseconds: Int64? = 300_000, metricsFactory: (any MetricsFactory)? = nil, usesCorrelationFilters: Bool = true,
            mode: AccessMode = .readWrite, permissions: Permissions = .ownerOnly
        ) {
            self.mode = mode
            self.permissions = permissions
            self.logger = logger
            self.clock = clock
            self.createIfMissing = createIfMissing
            self.openSegmentFilesLimit = openSegmentFilesLimit
            self.retentionCheckMilliseconds = retentionCheckMilliseconds
            self.metricsFactory = metricsFactory
            self.usesCorrelationFilters = usesCorrelationFilters
        }
    }

    /// The permissions of the folders and files a store creates (narrowed by the umask).
    public enum Permissions: Sendable, Equatable {
        /// Folders 0700, files 0600: only the owner reads the store. Events carry business data,
        /// so this is the default.
        case ownerOnly
        /// Folders 0750, files 0640: the folder's group may read (not write) the store. Give the
        /// store folder that group, and the setgid bit (`chmod 2750`), so what is created in it
        /// inherits the group.
        case groupReadable
    }

    /// How a process may use a store it opens.
    public enum AccessMode: Sendable, Equatable {
        /// The one writer: takes the store's exclusive lock, recovers it if needed, appends,
        /// creates topics, runs retention, and publishes what readers may see.
        case readWrite
        /// A reader: takes no exclusive lock and writes none of the store's files, so it opens
        /// whether or not a writer runs, and in a folder this process may only read. It sees
        /// what the writer has published (under `FlushPolicy.everyAppend`, what is durable),
        /// follows new segments, retention, new topics and a writer that restarts, and tails
        /// live appends. It may consume as a member of a consumer group and commit offsets.
        /// Anything that would change the log throws `.readOnly`.
        case readOnly
    }

    /// The store's folder, as given to ``open(at:options:)``.
    public let path: String
    let options: Options
    /// The live file: the writer's announcements to reader processes. The writer always has
    /// one; a reader has one once a writer has opened the store.
    let live: Locked<LiveStoreFile?>
    /// True for a store opened ``AccessMode/readOnly``.
    public var isReadOnly: Bool { options.mode == .readOnly }
    /// The handles of the store's metrics; the dead-letter helper counts through it.
    let metrics: StoreMetrics
    /// The writer's exclusive lock; nil for a reader.
    private let lockFile: File?
    let cache: SegmentFileCache
    let correlationFilters: CorrelationFilterQueue
    let state: Locked<State>

    struct State {
        var topics: [String: Topic] = [:]
        var groups: [String: ConsumerGroup] = [:]
        var retentionTimer: RetentionTimer?
        /// A reader's: the thread that wakes its tailing readers when the writer publishes.
        var liveWatcher: LiveWatcher?
        /// A reader's: the writer's topics version its topics reflect.
        var readerTopicsVersion: UInt64 = 0
        /// The producer ids and epochs handed out, read from disk at the first registration.
        var producerIdentities: ProducerIdentities?
        var isClosed = false
    }

    var isClosed: Bool { state.withLock { $0.isClosed } }

    /// Runs `body` with the store's state locked, or throws `.storeClosed`.
    func withOpenState<T>(_ body: (inout State) throws(StreamStoreError) -> T) throws(StreamStoreError) -> T {
        try state.withLock { (state) throws(StreamStoreError) -> T in
            guard !state.isClosed else { throw StreamStoreError(.storeClosed, "The store is closed.", path: path) }
            return try body(&state)
        }
    }

    /// What recovery did, one entry per partition that was not shut down cleanly.
    public let recoveries: [PartitionRecovery]
    /// True when the previous process closed the store cleanly.
    public let openedCleanly: Bool

    init(
        path: String, options: Options, metrics: StoreMetrics, lockFile: File?, live: LiveStoreFile?, cache: SegmentFileCache,
        correlationFilters: CorrelationFilterQueue,
        topics: [String: Topic], recoveries: [PartitionRecovery], clean: Bool
    ) {
        self.path = path
        self.options = options
        self.metrics = metrics
        self.lockFile = lockFile
        self.live = Locked(live)
        self.cache = cache
        self.correlationFilters = correlationFilters
        self.state = Locked(State(topics: topics))
        self.recoveries = recoveries
        self.openedCleanly = clean
    }

    /// Opens the store in `path`, creating it if allowed and missing, and recovers it if the
    /// last process did not close it cleanly.
    public static func open(at path: String, options: Options = Options()) throws(StreamStoreError) -> Store {
        var options = options
        if options.permissions == .groupReadable, options.fileSystem === PosixFileSystem.shared {
            options.fileSystem = PosixFileSystem.groupReadable
        }
        if options.mode == .readOnly { return try openReadOnly(at: path, options: options) }
        let fileSystem = options.fileSystem
        let directory = Directory(fileSystem: fileSystem)
        let manifestPath = FileNames.join(path, FileNames.storeManifest)
        try requireFolderOrNothing(at: path, fileSystem: fileSystem)
        if !directory.exists(path) {
            guard options.createIfMissing else {
                throw StreamStoreError(.notAStore, "There is no store there, and createIfMissing is off.", path: path)
            }
            // A service's first start on a fresh machine: its data folder's parents may not exist yet.
            try directory.createWithParents(path)
        }
        let lockFile = try File.open(FileNames.join(path, FileNames.lock), create: true, fileSystem: fileSystem)
        if fileSystem.lockExclusive(lockFile.fd) != 0 {
            let code = errno
            if code == EWOULDBLOCK || code == EAGAIN {
                throw StreamStoreError(.storeLocked, "The store is open in another process (or another Store in this one); close it first.", path: path)
            }
            throw .io("flock", path: path, errno: code)
        }

        // A crash while replacing a file of the store's own leaves a temporary file behind.
        for name in try directory.list(path) where name.hasSuffix(FileNames.temporarySuffix) {
            try directory.remove(FileNames.join(path, name))
        }
        if let bytes = try directory.readWhole(manifestPath, limitBytes: Limits.maxManifestBytes) {
            let manifest = try JSONFiles.decode(StoreManifest.self, from: bytes, path: manifestPath)
            guard manifest.formatVersion <= StoreManifest.currentFormatVersion else {
                throw StreamStoreError(
                    .unsupportedFormatVersion, "The store has format version \(manifest.formatVersion); this build reads up to \(StoreManifest.currentFormatVersion). Upgrade StreamStore.",
                    path: path)
            }
        } else {
            let existing = try directory.list(path).filter { $0 != FileNames.lock }
            guard existing.isEmpty else {
                throw StreamStoreError(.notAStore, "The folder is not empty and has no \(FileNames.storeManifest): it is not a store. Open a store folder, or an empty one to make a store in it.", path: path)
            }
            let manifest = StoreManifest(formatVersion: StoreManifest.currentFormatVersion, createdMilliseconds: options.clock.nowMilliseconds())
            try directory.writeAtomically(try manifest.encoded(), to: manifestPath, folder: path)
        }

        // The marker says the last close was clean. It is removed before anything else happens,
        // so a crash from here on is recovered from next time.
        let markerPath = FileNames.join(path, FileNames.cleanShutdown)
        let clean = options.fileSystem.fileType(markerPath) == .regular
        if clean {
            try directory.remove(markerPath)
            try directory.sync(path)
        }

        // Announced before any partition opens: a reader that sees the new generation knows a
        // writer (perhaps recovering) is at work.
        let live = try LiveStoreFile.openForWriting(storeFolder: path, mode: 0o600, fileSystem: fileSystem)
        let cache = SegmentFileCache(capacity: options.openSegmentFilesLimit)
        let metrics = StoreMetrics(factory: options.metricsFactory)
        let correlationFilters = CorrelationFilterQueue(isEnabled: options.usesCorrelationFilters)
        var topics: [String: Topic] = [:]
        var recoveries: [PartitionRecovery] = []
        for (name, manifest) in try topicManifests(in: path, fileSystem: fileSystem) {
            let (topic, recovered) = try openTopic(
                name: name, config: manifest.config, folder: FileNames.join(path, name), clean: clean, cache: cache,
                correlationFilters: correlationFilters, access: .writer(live), options: options, metrics: metrics)
            topics[name] = topic
            recoveries += recovered
        }
        let store = Store(
            path: path, options: options, metrics: metrics, lockFile: lockFile, live: live, cache: cache, correlationFilters: correlationFilters,
            topics: topics, recoveries: recoveries, clean: clean)
        for topic in topics.values {
            for partition in topic.partitions { partition.scheduleMissingCorrelationFilters() }
        }
        if let interval = options.retentionCheckMilliseconds, interval > 0 {
            let timer = RetentionTimer(intervalMilliseconds: interval, directory: store)
            store.state.withLock { $0.retentionTimer = timer }
        }
        options.logger.info(
            "Opened store \(path) (StreamStore \(Store.version)).",
            metadata: ["version": "\(Store.version)", "clean": "\(clean)", "topics": "\(topics.count)"])
        return store
    }

    /// Throws `.notAStore`, naming `path` as given, when something other than a folder is there
    /// (a regular file, a socket): the store's own files inside it could only fail later with a
    /// message about `store.lock` that the caller never wrote.
    static func requireFolderOrNothing(at path: String, fileSystem: FileSystem) throws(StreamStoreError) {
        guard let type = fileSystem.fileType(path), type != .directory else { return }
        // A symbolic link to a folder is a folder to open, as the caller means it.
        var info = stat()
        if type == .other, stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return }
        throw StreamStoreError(.notAStore, "\(quoted(path)) is a file, not a store folder: open a store folder, or a path where one may be made.", path: path)
    }

    /// The topics a store folder holds, by name: each topic folder with a valid `topic.json`
    /// (one without is a topic whose creation did not finish, and is ignored).
    static func topicManifests(in path: String, fileSystem: FileSystem) throws(StreamStoreError) -> [(String, TopicManifest)] {
        let directory = Directory(fileSystem: fileSystem)
        var manifests: [(String, TopicManifest)] = []
        for name in try directory.list(path).sorted() where FileNames.isValidTopicName(name) {
            let topicFolder = FileNames.join(path, name)
            // A symbolic link could lead out of the store: topics are real folders only.
            guard directory.isDirectory(topicFolder) else { continue }
            let manifestPath = FileNames.join(topicFolder, FileNames.topicConfig)
            guard let bytes = try directory.readWhole(manifestPath, limitBytes: Limits.maxManifestBytes) else { continue }
            let manifest = try JSONFiles.decode(TopicManifest.self, from: bytes, path: manifestPath)
            guard manifest.name == name else {
                throw StreamStoreError(
                    .topicConfigMismatch, "The \(FileNames.topicConfig) of folder \(quoted(name)) names topic \(quoted(manifest.name)); restore the folder's own \(FileNames.topicConfig).",
                    path: manifestPath)
            }
            guard manifest.formatVersion <= StoreManifest.currentFormatVersion else {
                throw StreamStoreError(
                    .unsupportedFormatVersion, "Topic \(quoted(name)) has format version \(manifest.formatVersion); this build reads up to \(StoreManifest.currentFormatVersion). Upgrade StreamStore.",
                    path: manifestPath)
            }
            try manifest.config.validate()
            manifests.append((name, manifest))
        }
        return manifests
    }

    static func openTopic(
        name: String, config: TopicConfig, folder: String, clean: Bool, cache: SegmentFileCache, correlationFilters: CorrelationFilterQueue,
        access: LogAccess, options: Options, metrics: StoreMetrics
    ) throws(StreamStoreError) -> (Topic, [PartitionRecovery]) {
        var partitions: [Partition] = []
        var recoveries: [PartitionRecovery] = []
        let settings = Locked(config)
        for index in 0..<config.partitionCount {
            let context = PartitionContext(
                topic: name, partition: index, folder: FileNames.partitionFolder(topicFolder: folder, partition: index),
                currentConfig: { settings.withLock { $0.logConfig } },
                fileSystem: options.fileSystem, cache: cache, correlationFilters: correlationFilters, clock: options.clock, logger: options.logger,
                metrics: metrics.partition(topic: name, partition: index), access: access)
            do {
                guard case .writer = access else {
                    let published = try PublishedEndFile.openForReading(folder: context.folder, fileSystem: options.fileSystem)
                    let opened = try PartitionLoader.openReadOnly(context: context, published: published?.read())
                    partitions.append(Partition(context: context, opened: opened, published: published))
                    continue
                }
                let opened = try PartitionLoader.open(context: context, storeWasClean: clean)
                if let recovery = opened.recovery { recoveries.append(recovery) }
                let producers = try ProducerStateLoader.load(context: context, opened: opened)
                let published = try PublishedEndFile.openForWriting(folder: context.folder, mode: 0o600, fileSystem: options.fileSystem)
                partitions.append(
                    Partition(context: context, opened: opened, producers: producers.table, producerSnapshot: producers.snapshot, published: published))
            } catch {
                throw error.with(topic: name, partition: index)
            }
        }
        let topic = Topic(name: name, settings: settings, partitions: partitions, metrics: metrics.topic(name), clock: options.clock)
        if config.dedupeWindowMilliseconds != nil { topic.rebuildDedupeWindow(now: options.clock.nowMilliseconds()) }
        return (topic, recoveries)
    }

    /// The writer's access to a new partition: its publishes signal the live file.
    private func writerAccess() throws(StreamStoreError) -> LogAccess {
        guard let file = live.withLock({ $0 }), !isReadOnly else { throw StreamStoreError(.readOnly, "The store was opened read-only.", path: path) }
        return .writer(file)
    }

    /// Names of the topics, sorted.
    public var topicNames: [String] {
        if isReadOnly { refreshTopicsIfChanged() }
        return state.withLock { $0.topics.keys.sorted() }
    }

    /// The topic called `name`; `.invalidTopicName` when no topic could have that name (`../x`),
    /// `.unknownTopic` when none has.
    public func topic(_ name: String) throws(StreamStoreError) -> Topic {
        guard FileNames.isValidTopicName(name) else { throw Store.invalidTopicName(name) }
        // A reader looks again before it says no: the writer may have created the topic since.
        if isReadOnly, state.withLock({ $0.topics[name] == nil && !$0.isClosed }) { try refreshTopicsFromWriter() }
        return try state.withLock { (state) throws(StreamStoreError) -> Topic in
            guard !state.isClosed else { throw StreamStoreError(.storeClosed, "The store is closed.", path: path) }
            guard let topic = state.topics[name] else {
                throw StreamStoreError(.unknownTopic, "There is no topic \(quoted(name)).", topic: name)
            }
            return topic
        }
    }

    /// Creates a topic, or returns the existing one when its config is the same
    /// (`.topicExists` when it differs).
    public func createTopic(_ name: String, config: TopicConfig = TopicConfig()) throws(StreamStoreError) -> Topic {
        guard FileNames.isValidTopicName(name), !name.hasPrefix(FileNames.internalPrefix) else { throw Store.invalidTopicName(name) }
        try config.validate()
        try requireWriter("create topic \(name)")
        return try state.withLock { (state) throws(StreamStoreError) -> Topic in
            guard !state.isClosed else { throw StreamStoreError(.storeClosed, "The store is closed.", path: path) }
            if let existing = state.topics[name] {
                guard existing.config == config else {
                    let differences = existing.config.differences(from: config).joined(separator: ", ")
                    throw StreamStoreError(.topicExists, "Topic \(quoted(name)) exists with a different config: \(differences).", topic: name)
                }
                return existing
            }
            let directory = Directory(fileSystem: options.fileSystem)
            let folder = FileNames.join(path, name)
            try directory.create(folder)
            let manifest = TopicManifest(formatVersion: StoreManifest.currentFormatVersion, name: name, config: config)
            let (topic, _) = try Store.openTopic(
                name: name, config: config, folder: folder, clean: false, cache: cache, correlationFilters: correlationFilters,
                access: try writerAccess(), options: options, metrics: metrics)
            // The config is written last: a topic folder without it is ignored on open, so a
            // crash part way through creation leaves no half-made topic.
            try directory.writeAtomically(try JSONFiles.encode(manifest), to: FileNames.join(folder, FileNames.topicConfig), folder: folder)
            try directory.sync(path)
            state.topics[name] = topic
            live.withLock { $0?.topicsChanged() }
            return topic
        }
    }

    static func invalidTopicName(_ name: String) -> StreamStoreError {
        StreamStoreError(
            .invalidTopicName, "\"\(quoted(name))\" is not a valid topic name: use 1 to 249 of a-z A-Z 0-9 . _ - (not . or .., not starting with __).",
            topic: name)
    }

    /// Dropping a store without ``close()`` is a crash as far as the folder is concerned: nothing
    /// is flushed or trimmed. So that a store opened next on the folder is alone in it, the
    /// dropped one first stops its filter builds, then stops the topics the application may
    /// still hold (their appends throw `.storeClosed`; a background fsync of a sealed segment
    /// finishing late no longer rewrites the `checkpoints` file under the new store, which
    /// showed as a failed rename of `checkpoints.tmp`), then releases its lock explicitly rather
    /// than only by closing the descriptor: a process being spawned at that moment holds a copy
    /// of the descriptor until it execs, and would keep the lock (flock locks belong to the open
    /// file, not to one descriptor), so an immediate reopen here would fail with `.storeLocked`.
    deinit {
        state.withLock { $0.liveWatcher }?.stop()
        correlationFilters.stop()
        let topics = state.withLock { Array($0.topics.values) }
        for topic in topics {
            for partition in topic.partitions { partition.abandon() }
        }
        if let lockFile { _ = options.fileSystem.unlock(lockFile.fd) }
    }

    /// Closes every partition cleanly (fsynced, indexes trimmed, checkpoints written) and
    /// releases the lock. The store cannot be used afterwards.
    public func close() throws(StreamStoreError) {
        let closing: (topics: [Topic], groups: [ConsumerGroup], timer: RetentionTimer?, watcher: LiveWatcher?)? = state.withLock { state in
            guard !state.isClosed else { return nil }
            state.isClosed = true
            defer {
                state.retentionTimer = nil
                state.liveWatcher = nil
            }
            return (Array(state.topics.values), Array(state.groups.values), state.retentionTimer, state.liveWatcher)
        }
        guard let (topics, groups, timer, watcher) = closing else { return }
        watcher?.stop()
        // A retention run under way finishes first; none starts after this. Filter builds stop
        // too: a filter is a cache that a later trace rebuilds, not worth a wait.
        timer?.stop()
        correlationFilters.stop()
        var firstError: StreamStoreError?
        for group in groups {
            do throws(StreamStoreError) { try group.close() } catch { firstError = firstError ?? error }
        }
        for topic in topics {
            for partition in topic.partitions {
                do throws(StreamStoreError) { try partition.close() } catch { firstError = firstError ?? error }
            }
        }
        if isReadOnly {
            if let firstError { throw firstError }
            return
        }
        live.withLock { $0?.writerClosed() }
        defer { if let lockFile { _ = options.fileSystem.unlock(lockFile.fd) } }
        if let firstError { throw firstError }
        let directory = Directory(fileSystem: options.fileSystem)
        let marker = try File.open(FileNames.join(path, FileNames.cleanShutdown), create: true, fileSystem: options.fileSystem)
        try marker.sync()
        try directory.sync(path)
    }
}
