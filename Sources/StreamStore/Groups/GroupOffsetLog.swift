import StreamStoreFormat
import StreamStoreLog
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
/// or corrupt frame at the tail fails its length or CRC check and is cut off on open (the
/// commit before it stands). A snapshot frame replaces everything before it; compaction writes
/// one snapshot into a new file and renames it over the old one.
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
    private let folder: String
    private let fileSystem: FileSystem
    private var file: File
    private var sizeBytes: Int64
    private(set) var state: [Key: Committed]
    /// Frames cut off the tail on open (a torn last commit), for the log.
    private(set) var truncatedBytes: Int64 = 0

    /// Opens (or creates) the log at `path` and replays it.
    init(path: String, folder: String, fileSystem: FileSystem) throws(StreamStoreError) {
        self.path = path
        self.folder = folder
        self.fileSystem = fileSystem
        let directory = Directory(fileSystem: fileSystem)
        let existed = directory.exists(path)
        file = try File.open(path, create: true, fileSystem: fileSystem)
        let existingBytes = try file.size()
        if !existed || existingBytes < Int64(Self.headerBytes) {
            try Self.writeHeader(file)
            try directory.sync(folder)
        }
        let loaded = try Self.decode(try directory.readWhole(path, limitBytes: Limits.maxGroupOffsetLogBytes) ?? [], path: path)
        state = loaded.state
        sizeBytes = loaded.validBytes
        let actual = try file.size()
        if actual > loaded.validBytes {
            truncatedBytes = actual - loaded.validBytes
            try file.truncate(to: loaded.validBytes)
            try file.syncData()
        }
    }

    /// Appends one commit frame; `sync` makes it durable before returning.
    func commit(_ entries: [(Key, Int64)], nowMilliseconds: Int64, sync: Bool) throws(StreamStoreError) {
        guard !entries.isEmpty else { return }
        let frame = Self.frame(kind: 1, entries: entries, nowMilliseconds: nowMilliseconds)
        try file.write(frame, at: sizeBytes)
        if sync { try file.syncData() }
        sizeBytes += Int64(frame.count)
        for (key, offset) in entries { state[key] = Committed(offset: offset, committedMilliseconds: nowMilliseconds) }
        if sizeBytes > Self.compactionThresholdBytes && sizeBytes > 4 * Int64(Self.snapshotBytesEstimate(state)) {
            try compact(nowMilliseconds: nowMilliseconds)
        }
    }

    /// Makes every commit so far durable.
    func sync() throws(StreamStoreError) { try file.syncData() }

    /// Rewrites the log as one snapshot frame: temporary file, fsync, rename, fsync of the folder.
    func compact(nowMilliseconds: Int64) throws(StreamStoreError) {
        let temporary = path + FileNames.temporarySuffix
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
        file = fresh
        sizeBytes = position
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
        guard bytes.count >= headerBytes, Array(bytes[0..<4]) == magic else {
            throw StreamStoreError(.corruptGroupOffsets, "The file is not a group offset log (bad header); move it away to start the group from scratch.", path: path)
        }
        let version = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        guard version == Self.version else {
            throw StreamStoreError(.unsupportedFormatVersion, "Group offset log version \(version); this build reads version \(Self.version).", path: path)
        }
        var state: [Key: Committed] = [:]
        var position = headerBytes
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
        return (state, Int64(position))
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
