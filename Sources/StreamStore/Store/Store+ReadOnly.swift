import StreamStoreFormat
import StreamStoreLog

/// A store opened ``Store/AccessMode/readOnly``: one of any number of reader processes beside
/// the one writer (docs/ARCHITECTURE.md, "Many processes, one store").
extension Store {
    /// Opens `path` for reading only: no lock, no recovery, nothing written. Each partition ends
    /// where the writer last published (or, when no writer ever published, at the last whole
    /// batch on disk).
    static func openReadOnly(at path: String, options: Options) throws(StreamStoreError) -> Store {
        let fileSystem = options.fileSystem
        let directory = Directory(fileSystem: fileSystem)
        let manifestPath = FileNames.join(path, FileNames.storeManifest)
        try requireFolderOrNothing(at: path, fileSystem: fileSystem)
        guard directory.exists(path) else {
            throw StreamStoreError(.notAStore, "There is no store there; a read-only open never creates one.", path: path)
        }
        guard let bytes = try directory.readWhole(manifestPath, limitBytes: Limits.maxManifestBytes) else {
            throw StreamStoreError(.notAStore, "The folder has no \(FileNames.storeManifest): it is not a store.", path: path)
        }
        let manifest = try JSONFiles.decode(StoreManifest.self, from: bytes, path: manifestPath)
        guard manifest.formatVersion <= StoreManifest.currentFormatVersion else {
            throw StreamStoreError(
                .unsupportedFormatVersion,
                "The store has format version \(manifest.formatVersion); this build reads up to \(StoreManifest.currentFormatVersion). Upgrade StreamStore.",
                path: path)
        }
        let live = try LiveStoreFile.openForReading(storeFolder: path, fileSystem: fileSystem)
        let cache = SegmentFileCache(capacity: options.openSegmentFilesLimit)
        let metrics = StoreMetrics(factory: options.metricsFactory)
        // A reader uses the correlation filters the writer built, and builds none itself (it
        // never seals a segment; a trace in a reader writes no filter).
        let correlationFilters = CorrelationFilterQueue(isEnabled: options.usesCorrelationFilters)
        var topics: [String: Topic] = [:]
        let topicsVersion = live?.topicsVersion ?? 0
        let watcher = LiveWatcher()
        for (name, manifest) in try topicManifests(in: path, fileSystem: fileSystem) {
            topics[name] = try openTopic(
                name: name, config: manifest.config, folder: FileNames.join(path, name), clean: true, cache: cache,
                correlationFilters: correlationFilters, access: .reader(wake: watcher.readerWaits), options: options, metrics: metrics
            ).0
        }
        let store = Store(
            path: path, options: options, metrics: metrics, lockFile: nil, live: live, cache: cache, correlationFilters: correlationFilters,
            topics: topics, recoveries: [], clean: true)
        store.state.withLock {
            $0.readerTopicsVersion = topicsVersion
            $0.liveWatcher = watcher
        }
        watcher.start(watching: store)
        return store
    }

    /// Throws `.readOnly` for a store opened read-only; `action` says what was refused.
    func requireWriter(_ action: String) throws(StreamStoreError) {
        guard isReadOnly else { return }
        let pid = live.withLock { $0?.writerPID ?? 0 }
        let writer = pid > 0 ? "the writer is process \(pid)" : "no writer is running"
        throw StreamStoreError(.readOnly, "Cannot \(action): this store was opened read-only (\(writer)); only the process that opens it for writing may change it.", path: path)
    }

    /// A reader's view of the topics catches up with the writer's: topics created since it looked
    /// are opened, and changed settings are taken. Called when a lookup misses and when the
    /// writer's topics version moves.
    func refreshTopicsFromWriter() throws(StreamStoreError) {
        guard isReadOnly else { return }
        if live.withLock({ $0 == nil }), let opened = try LiveStoreFile.openForReading(storeFolder: path, fileSystem: options.fileSystem) {
            live.withLock { $0 = opened }
        }
        let currentLive = live.withLock { $0 }
        let version = currentLive?.topicsVersion ?? 0
        guard let watcher = state.withLock({ $0.liveWatcher }) else { return }
        let manifests = try Store.topicManifests(in: path, fileSystem: options.fileSystem)
        let known = state.withLock { $0.topics }
        var opened: [String: Topic] = [:]
        for (name, manifest) in manifests {
            if let topic = known[name] {
                if topic.config != manifest.config { topic.settings.withLock { $0 = manifest.config } }
                continue
            }
            opened[name] = try Store.openTopic(
                name: name, config: manifest.config, folder: FileNames.join(path, name), clean: true, cache: cache,
                correlationFilters: correlationFilters, access: .reader(wake: watcher.readerWaits), options: options, metrics: metrics
            ).0
        }
        state.withLock { state in
            for (name, topic) in opened where state.topics[name] == nil { state.topics[name] = topic }
            state.readerTopicsVersion = version
        }
    }

    /// For the watcher: refreshes the topics when the writer says they changed.
    func refreshTopicsIfChanged() {
        guard let version = live.withLock({ $0?.topicsVersion }), version != state.withLock({ $0.readerTopicsVersion }) else { return }
        do {
            try refreshTopicsFromWriter()
        } catch {
            options.logger.warning("Could not follow the writer's topics: \(error)")
        }
    }
}
