import StreamStoreFormat
import StreamStoreLog
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
/// A consumer group's committed offsets on disk: a small append-only log of checksummed frames
/// (docs/FORMAT.md, "Consumer group offsets"), replayed on open, compacted when it grows.
///
/// ```
/// header:  0 magic "SSGO"   4 version uint16 (= 1)   6 reserved uint16 (= 0)
/// frame:   0 length uint32 (payload bytes)   4 crc32c uint32 of the payload   8 payload
/// payload: kind uint8 (1 commit, 2 snapshot)   commit time int64 ms   entry count uint16
///          entries: topic length uint16, topic UTF-8, partition int32, next offset int64
/// ```
/// Big-endian. One commit call is one frame, so a crash leaves all of it or none of it: a torn
/// or corrupt frame at the tail fails its length or CRC check and is ignored (the commit before
/// it stands), then cut off by the next commit. A snapshot frame replaces everything before it;
/// compaction writes one snapshot into a new file and renames it over the old one.
///
/// Any number of processes (and `GroupOffsetLog`s in one process) may share the file: each
/// takes the group's lock file (`<group>.lock`, flock) exclusively to commit, compact or cut a
/// torn tail, and shared to read, and before either catches up with what the others wrote:
/// it applies the frames appended since it last looked, and opens the file again from the start
/// when another one compacted it (the path names a new inode). So a frame being written is never
/// read half-way nor cut off as torn, and every instance sees each commit once it returned.
///
/// Why a log and not a file replaced per commit: a commit is then one `pwrite` (+ one
/// `fdatasync` when durable), where a replacement costs a write, two fsyncs and a rename.
final class GroupOffsetLog {
    struct Key: Hashable, Comparable, Sendable {
        var topic: String
        var partition: Int
        static func < (a: Key, b: Key) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    }

    struct Committed: Equatable, Sendable {
        var offset: Int64
        var committedMilliseconds: Int64
    }

    static let magic: [UInt8] = Array("SSGO".utf8)
    static let version: UInt16 = 1
    static let headerBytes = 8
    static let frameHeaderBytes = 8
    /// A commit frame holds at most this many entries (the count is a uint16).
    static let maxEntriesPerFrame = Int(UInt16.max)
    /// Compact when the file is larger than this and four times what a snapshot would take.
    static let compactionThresholdBytes: Int64 = 1 << 20

    let path: String
    let lockPath: String
    private let folder: String
    private let fileSystem: FileSystem
    /// The group's lock; nil when the lock file does not exist and this process may not create
    /// it (a store folder it may only read), in which case reads go without it: frames are
    /// checksummed, so a frame being written reads as a torn tail and is picked up next time.
    private var lock: FileLock?
    /// The offsets file as last opened, and which file that is; nil while there is none.
    private var file: File?
    private var identity: FileIdentity?
    /// How far into `file` the frames are applied to `state`.
    private var appliedBytes: Int64 = 0
    private(set) var state: [Key: Committed] = [:]
    /// Told how many bytes of a torn commit a commit cut off the tail, for the log.
    private let onTruncate: (Int64) -> Void
    /// Told when a compaction after a commit failed (the commit stands), for the log.
    private let onCompactionFailure: (StreamStoreError) -> Void
    /// After a failed compaction, the size the log must pass before the next attempt.
    private var nextCompactionAttemptBytes: Int64 = 0
    /// How much a log grows after a failed compaction before the next attempt, so a full disk
    /// does not cost a failed snapshot write per commit.
    static let compactionRetryBytes: Int64 = 64 << 10

    /// Opens the log at `path` (which need not exist yet: the first commit creates it) with its
    /// lock file at `lockPath`, and reads it.
    init(
        path: String, lockPath: String, folder: String, fileSystem: FileSystem, onTruncate: @escaping (Int64) -> Void = { _ in },
        onCompactionFailure: @escaping (StreamStoreError) -> Void = { _ in }
    ) throws(StreamStoreError) {
        self.path = path
        self.lockPath = lockPath
        self.folder = folder
        self.fileSystem = fileSystem
        self.onTruncate = onTruncate
        self.onCompactionFailure = onCompactionFailure
        lock = try FileLock.open(lockPath, create: true, fileSystem: fileSystem)
        _ = try read()
    }

    /// The committed offsets as of now, every other writer's commits included.
    func read() throws(StreamStoreError) -> [Key: Committed] {
        guard let lock else {
            try catchUp(exclusive: false)
            return state
        }
        try lock.withLock(.shared) { () throws(StreamStoreError) in try catchUp(exclusive: false) }
        return state
    }

    /// Appends one commit frame after the others' (creating the file on first use); `sync` makes
    /// it durable before returning.
    ///
    /// A commit that throws never counts: a frame whose write or fsync failed is cut off again,
    /// so no later read takes it for committed. A commit that returned stands: a compaction
    /// that fails after it (a full disk) is reported to `onCompactionFailure` and tried again
    /// once the log has grown by another ``compactionRetryBytes``.
    func commit(_ entries: [(Key, Int64)], nowMilliseconds: Int64, sync: Bool) throws(StreamStoreError) {
        guard !entries.isEmpty else { return }
        try withExclusiveLock { () throws(StreamStoreError) in
            try catchUp(exclusive: true)
            let file = try fileForWriting()
            let frame = Self.frame(kind: 1, entries: entries, nowMilliseconds: nowMilliseconds)
            do throws(StreamStoreError) {
                try file.write(frame, at: appliedBytes)
                if sync { try file.syncData() }
            } catch {
                // Left in the file, a whole frame (written, but its fsync failed) would be read
                // back as committed by the next catch-up, here or in another process.
                try? file.truncate(to: appliedBytes)
                throw error
            }
            appliedBytes += Int64(frame.count)
            for (key, offset) in entries { state[key] = Committed(offset: offset, committedMilliseconds: nowMilliseconds) }
            if appliedBytes > max(Self.compactionThresholdBytes, nextCompactionAttemptBytes)
                && appliedBytes > 4 * Int64(Self.snapshotBytesEstimate(state))
            {
                do throws(StreamStoreError) {
                    try compactLocked(nowMilliseconds: nowMilliseconds)
                } catch {
                    nextCompactionAttemptBytes = appliedBytes + Self.compactionRetryBytes
                    onCompactionFailure(error)
                }
            }
        }
    }

    /// Makes every commit so far durable.
    func sync() throws(StreamStoreError) { try file?.syncData() }

    /// Rewrites the log as one snapshot frame (see ``compactLocked(nowMilliseconds:)``).
    func compact(nowMilliseconds: Int64) throws(StreamStoreError) {
        try withExclusiveLock { () throws(StreamStoreError) in
            try catchUp(exclusive: true)
            try compactLocked(nowMilliseconds: nowMilliseconds)
        }
    }

    // MARK: Sharing the file

    private func withExclusiveLock(_ body: () throws(StreamStoreError) -> Void) throws(StreamStoreError) {
        if lock == nil { lock = try FileLock.open(lockPath, create: true, fileSystem: fileSystem) }
        guard let lock else { throw .io("open", path: lockPath, errno: ENOENT) }
        try lock.withLock(.exclusive, body)
    }

    /// Brings `state` up to what the file holds now (group lock held). A file that another
    /// process compacted (a new inode at the path) is read again from its start. Under the
    /// exclusive lock a torn tail (bytes past the last whole frame, which no live writer can be
    /// writing) is cut off; under the shared one it is only skipped.
    private func catchUp(exclusive: Bool) throws(StreamStoreError) {
        guard let current = FileIdentity(path: path) else {
            // No file: nothing committed yet (or the group's files were removed).
            (file, identity, appliedBytes, state) = (nil, nil, 0, [:])
            return
        }
        if file == nil || current != identity {
            let opened = try Self.openOffsets(path, fileSystem: fileSystem)
            (file, identity, appliedBytes, state) = (opened, FileIdentity(descriptor: opened.fd), 0, [:])
        }
        guard let file else { return }
        var size = try file.size()
        guard size <= Int64(Limits.maxGroupOffsetLogBytes) else {
            throw StreamStoreError(
                .fileTooLarge, "The group offset log is \(size) bytes, more than the \(Limits.maxGroupOffsetLogBytes) a group reads.", path: path)
        }
        if size < appliedBytes { (appliedBytes, state) = (0, [:]) }
        if appliedBytes == 0 {
            guard size >= Int64(Self.headerBytes) else {
                // A crash while the file was being created: under the exclusive lock it is made again.
                if exclusive { try Self.writeHeader(file) }
                appliedBytes = exclusive ? Int64(Self.headerBytes) : 0
                return
            }
            try Self.checkHeader(try Self.readBytes(file, from: 0, count: Self.headerBytes), path: path)
            appliedBytes = Int64(Self.headerBytes)
        }
        if size > appliedBytes {
            let tail = try Self.readBytes(file, from: appliedBytes, count: Int(size - appliedBytes))
            appliedBytes += Int64(Self.applyFrames(tail, to: &state))
        }
        size = try file.size()
        if exclusive && size > appliedBytes {
            try file.truncate(to: appliedBytes)
            try file.syncData()
            onTruncate(size - appliedBytes)
        }
    }

    /// The file to append to, created with its header when none exists yet (exclusive lock held).
    private func fileForWriting() throws(StreamStoreError) -> File {
        if let file { return file }
        let created = try File.open(path, create: true, fileSystem: fileSystem)
        try Self.writeHeader(created)
        try Directory(fileSystem: fileSystem).sync(folder)
        (file, identity, appliedBytes) = (created, FileIdentity(descriptor: created.fd), Int64(Self.headerBytes))
        return created
    }

    /// Opens the offsets file for appending, or for reading only where this process may not write it.
    private static func openOffsets(_ path: String, fileSystem: FileSystem) throws(StreamStoreError) -> File {
        do throws(StreamStoreError) {
            return try File.open(path, create: false, fileSystem: fileSystem)
        } catch where error.systemErrno == EACCES || error.systemErrno == EROFS {
            return try File.open(path, create: false, readOnly: true, fileSystem: fileSystem)
        }
    }

    private static func readBytes(_ file: File, from position: Int64, count: Int) throws(StreamStoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try withMutableBytes(&bytes) { (buffer) throws(StreamStoreError) -> Int in try file.read(into: buffer, at: position) }
        if read < count { bytes.removeLast(count - read) }
        return bytes
    }

    /// Writes one snapshot into a temporary file, fsyncs it, renames it over the log and fsyncs
    /// the folder (exclusive lock held, state caught up). Other instances see the new inode at
    /// their next catch-up and read it from the start.
    private func compactLocked(nowMilliseconds: Int64) throws(StreamStoreError) {
        let temporary = path + FileNames.temporarySuffix
        let directory = Directory(fileSystem: fileSystem)
        do throws(StreamStoreError) {
            try writeSnapshot(to: temporary, nowMilliseconds: nowMilliseconds)
        } catch {
            // A half-written snapshot only takes space (on a full disk, the space it failed for).
            try? directory.remove(temporary)
            throw error
        }
    }

    /// Writes the snapshot into `temporary` and renames it over the log (``compactLocked(nowMilliseconds:)``).
    private func writeSnapshot(to temporary: String, nowMilliseconds: Int64) throws(StreamStoreError) {
        let fresh = try File.open(temporary, create: true, fileSystem: fileSystem)
        try fresh.truncate(to: 0)
        try Self.writeHeader(fresh)
        let entries = state.sorted { $0.key < $1.key }
        var position = Int64(Self.headerBytes)
        // A snapshot larger than one frame's entry count takes several; only the first replaces.
        var start = 0
        repeat {
            let chunk = entries[start..<min(start + Self.maxEntriesPerFrame, entries.count)].map { ($0.key, $0.value.offset) }
            let frame = Self.frame(kind: start == 0 ? 2 : 1, entries: chunk, nowMilliseconds: nowMilliseconds)
            try fresh.write(frame, at: position)
            position += Int64(frame.count)
            start += Self.maxEntriesPerFrame
        } while start < entries.count
        try fresh.sync()
        let directory = Directory(fileSystem: fileSystem)
        try directory.rename(temporary, to: path)
        try directory.sync(folder)
        (file, identity, appliedBytes) = (fresh, FileIdentity(descriptor: fresh.fd), position)
    }

    // MARK: Encoding

    private static func writeHeader(_ file: File) throws(StreamStoreError) {
        var header = magic
        header += [UInt8(version >> 8), UInt8(version & 0xff), 0, 0]
        try file.truncate(to: 0)
        try file.write(header, at: 0)
        try file.sync()
    }

    static func frame(kind: UInt8, entries: [(Key, Int64)], nowMilliseconds: Int64) -> [UInt8] {
        var payload: [UInt8] = [kind]
        payload.reserveCapacity(11 + entries.count * 32)
        append(nowMilliseconds, to: &payload)
        append(UInt16(entries.count), to: &payload)
        for (key, offset) in entries {
            let topic = Array(key.topic.utf8)
            append(UInt16(topic.count), to: &payload)
            payload += topic
            append(Int32(key.partition), to: &payload)
            append(offset, to: &payload)
        }
        var frame: [UInt8] = []
        frame.reserveCapacity(frameHeaderBytes + payload.count)
        append(UInt32(payload.count), to: &frame)
        append(CRC32C.checksum(payload), to: &frame)
        frame += payload
        return frame
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        BigEndian.append(value, to: &bytes)
    }

    private static func snapshotBytesEstimate(_ state: [Key: Committed]) -> Int {
        state.keys.reduce(frameHeaderBytes + 11) { $0 + 14 + $1.topic.utf8.count }
    }

    // MARK: Decoding

    /// The state the log's valid frames describe, and where the valid part ends.
    static func decode(_ bytes: [UInt8], path: String) throws(StreamStoreError) -> (state: [Key: Committed], validBytes: Int64) {
        try checkHeader(bytes, path: path)
        var state: [Key: Committed] = [:]
        let valid = applyFrames(Array(bytes[headerBytes...]), to: &state)
        return (state, Int64(headerBytes + valid))
    }

    private static func checkHeader(_ bytes: [UInt8], path: String) throws(StreamStoreError) {
        guard bytes.count >= headerBytes, Array(bytes[0..<4]) == magic else {
            throw StreamStoreError(.corruptGroupOffsets, "The file is not a group offset log (bad header); move it away to start the group from scratch.", path: path)
        }
        let version = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        guard version == Self.version else {
            throw StreamStoreError(.unsupportedFormatVersion, "Group offset log version \(version); this build reads version \(Self.version).", path: path)
        }
    }

    /// Applies the whole, valid frames at the start of `bytes` to `state`, in order; returns how
    /// many bytes they take. It stops at the first frame whose length runs past the bytes, whose
    /// CRC fails or whose payload does not parse: a torn tail, or a frame still being written.
    static func applyFrames(_ bytes: [UInt8], to state: inout [Key: Committed]) -> Int {
        var position = 0
        while position + frameHeaderBytes <= bytes.count {
            let length = Int(BigEndian.load(UInt32.self, from: bytes, at: position))
            let crc = BigEndian.load(UInt32.self, from: bytes, at: position + 4)
            let start = position + frameHeaderBytes
            guard length >= 11, length <= bytes.count - start else { break }
            let payload = bytes[start..<(start + length)]
            guard CRC32C.checksum(payload) == crc, let frame = parsePayload(payload) else { break }
            if frame.kind == 2 { state.removeAll() }
            for (key, offset) in frame.entries { state[key] = Committed(offset: offset, committedMilliseconds: frame.time) }
            position = start + length
        }
        return position
    }

    /// One frame's payload; its indexes are those of the whole file.
    private static func parsePayload(_ payload: ArraySlice<UInt8>) -> (kind: UInt8, time: Int64, entries: [(Key, Int64)])? {
        let first = payload.startIndex
        let kind = payload[first]
        guard kind == 1 || kind == 2 else { return nil }
        let time = BigEndian.load(Int64.self, from: payload, at: first + 1)
        let count = Int(BigEndian.load(UInt16.self, from: payload, at: first + 9))
        var entries: [(Key, Int64)] = []
        var at = first + 11
        for _ in 0..<count {
            guard at + 2 <= payload.endIndex else { return nil }
            let topicLength = Int(BigEndian.load(UInt16.self, from: payload, at: at))
            at += 2
            guard at + topicLength + 12 <= payload.endIndex,
                let topic = String(validating: payload[at..<(at + topicLength)], as: UTF8.self)
            else { return nil }
            at += topicLength
            let partition = Int(BigEndian.load(Int32.self, from: payload, at: at))
            let offset = BigEndian.load(Int64.self, from: payload, at: at + 4)
            at += 12
            guard partition >= 0, offset >= 0 else { return nil }
            entries.append((Key(topic: topic, partition: partition), offset))
        }
        return at == payload.endIndex ? (kind, time, entries) : nil
    }
}
