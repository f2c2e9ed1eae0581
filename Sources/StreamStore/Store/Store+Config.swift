import StreamStoreFormat
import StreamStoreLog
extension Store {
    /// Changes a topic's settings and returns the new ones.
    ///
    /// ```swift
    /// try store.updateTopic("orders") { $0.retentionMilliseconds = 30 * 86_400_000; $0.compression = .zstd(level: 3) }
    /// ```
    /// New settings apply from the next append (compression, flush policy, segment limits),
    /// the next retention run (retention), at once for the timestamp check; existing batches
    /// keep their codec, and segments already written keep their size. The partition count
    /// and the index settings (`indexIntervalBytes`, `maxIndexBytes`) shape the files already
    /// written and cannot change (`.invalidConfig`). The new `topic.json` is written
    /// atomically before the change takes effect.
    @discardableResult
    public func updateTopic(_ name: String, _ change: (inout TopicConfig) -> Void) throws(StreamStoreError) -> TopicConfig {
        let topic = try self.topic(name)
        try requireWriter("change topic \(name)")
        return try withOpenState { (_) throws(StreamStoreError) -> TopicConfig in
            let old = topic.config
            var new = old
            change(&new)
            try new.validate()
            for (setting, changed) in [
                ("partitionCount", new.partitionCount != old.partitionCount),
                ("indexIntervalBytes", new.indexIntervalBytes != old.indexIntervalBytes),
                ("maxIndexBytes", new.maxIndexBytes != old.maxIndexBytes),
            ] where changed {
                throw StreamStoreError(
                    .invalidConfig, "The \(setting) of topic \(name) is fixed at creation; create a new topic and copy the records to change it.",
                    topic: name)
            }
            guard new != old else { return old }
            let folder = FileNames.join(path, name)
            let manifest = TopicManifest(formatVersion: StoreManifest.currentFormatVersion, name: name, config: new)
            try Directory(fileSystem: options.fileSystem).writeAtomically(
                try JSONFiles.encode(manifest), to: FileNames.join(folder, FileNames.topicConfig), folder: folder)
            topic.settings.withLock { $0 = new }
            live.withLock { $0?.topicsChanged() }
            if new.dedupeWindowMilliseconds != old.dedupeWindowMilliseconds || new.dedupeMaxMessageIDs != old.dedupeMaxMessageIDs {
                // Appends that read the old setting just before the change may be missed by
                // the new window: change it while producers are quiet to be exact.
                topic.rebuildDedupeWindow(now: options.clock.nowMilliseconds())
            }
            options.logger.info("Topic \(name) config changed: \(new.differences(from: old).joined(separator: ", ")).")
            return new
        }
    }
}
