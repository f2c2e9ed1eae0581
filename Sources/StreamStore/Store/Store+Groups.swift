import StreamStoreFormat
import StreamStoreLog
extension Store {
    /// The consumer group called `name`. A group exists on disk once it committed; with
    /// `createIfMissing: false` an unknown group is `.unknownGroup`.
    public func group(_ name: String, createIfMissing: Bool = true) throws(StreamStoreError) -> ConsumerGroup {
        guard FileNames.isValidTopicName(name) else {
            throw StreamStoreError(.invalidGroupName, "\"\(name)\" is not a valid group name: use 1 to 249 of a-z A-Z 0-9 . _ - (not . or ..).")
        }
        let group = try withOpenState { (state) throws(StreamStoreError) -> ConsumerGroup in
            if let existing = state.groups[name] { return existing }
            let group = ConsumerGroup(name: name, store: self, folder: FileNames.join(path, FileNames.groupsFolder))
            state.groups[name] = group
            return group
        }
        let known = try groupNames().contains(name)
        if !createIfMissing && !group.exists && !known {
            throw StreamStoreError(.unknownGroup, "There is no consumer group \(name); `stream-tool groups list` shows the groups that committed offsets.")
        }
        return group
    }

    /// Names of the groups that committed offsets, sorted.
    public func groupNames() throws(StreamStoreError) -> [String] {
        let folder = FileNames.join(path, FileNames.groupsFolder)
        let directory = Directory(fileSystem: options.fileSystem)
        guard directory.isDirectory(folder) else { return [] }
        return try directory.list(folder)
            .filter { $0.hasSuffix(FileNames.groupOffsetsSuffix) }
            .map { String($0.dropLast(FileNames.groupOffsetsSuffix.count)) }
            .filter { FileNames.isValidTopicName($0) }
            .sorted()
    }

    /// A new member of consumer group `group` reading `topic` (see ``Consumer``).
    public func consumer(group: String, topic: String, options: ConsumerOptions = ConsumerOptions()) throws(StreamStoreError) -> Consumer {
        try Consumer(group: try self.group(group), topic: try self.topic(topic), options: options)
    }
}
