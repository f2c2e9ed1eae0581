import StreamStoreFormat
import StreamStoreLog
import Foundation

/// A projection's snapshots: `<store>/__snapshots/<projection>/<topic>/<sequence>.snapshot`
/// (docs/FORMAT.md, "Projection snapshots").
///
/// ```
///  0 magic "SSSN"   4 version uint16 (= 1)   6 reserved uint16   8 payload length uint64
/// 16 crc32c uint32 of the payload   20 payload: JSON {projection, projectionVersion, topic,
///    partitionCount, offsets, createdMilliseconds, state}
/// ```
/// Written to a temporary file, fsynced and renamed into place, so a crash leaves a whole
/// snapshot or none. The newest ``keptSnapshots`` are kept.
struct SnapshotStore {
    static let magic: [UInt8] = Array("SSSN".utf8)
    static let version: UInt16 = 1
    static let headerBytes = 20
    static let suffix = ".snapshot"
    static let keptSnapshots = 3

    let folder: String
    let fileSystem: FileSystem

    struct Payload<State: Codable>: Codable {
        var projection: String
        var projectionVersion: Int
        var topic: String
        var partitionCount: Int
        var offsets: [Int: Int64]
        var createdMilliseconds: Int64
        var state: State
    }

    /// Sequence numbers on disk, newest first.
    func sequences() throws(StreamStoreError) -> [Int64] {
        let directory = Directory(fileSystem: fileSystem)
        guard directory.isDirectory(folder) else { return [] }
        return try directory.list(folder)
            .filter { $0.hasSuffix(Self.suffix) }
            .compactMap { Int64($0.dropLast(Self.suffix.count)) }
            .sorted(by: >)
    }

    func path(_ sequence: Int64) -> String {
        FileNames.join(folder, FileNames.segmentStem(baseOffset: sequence) + Self.suffix)
    }

    func save<State: Codable>(_ payload: Payload<State>) throws(StreamStoreError) -> Int64 {
        let directory = Directory(fileSystem: fileSystem)
        try createFolders()
        let sequence = (try sequences().first ?? 0) + 1
        let json: Data
        do {
            json = try JSONEncoder().encode(payload)
        } catch {
            throw StreamStoreError(.corruptSnapshot, "The state of projection \(payload.projection) cannot be encoded: \(error).")
        }
        var bytes = Self.magic + [UInt8(Self.version >> 8), UInt8(Self.version & 0xff), 0, 0]
        withUnsafeBytes(of: UInt64(json.count).bigEndian) { bytes += $0 }
        let body = [UInt8](json)
        withUnsafeBytes(of: body.withUnsafeBytes { CRC32C.checksum($0) }.bigEndian) { bytes += $0 }
        bytes += body
        try directory.writeAtomically(bytes, to: path(sequence), folder: folder)
        for old in try sequences().dropFirst(Self.keptSnapshots) { try directory.remove(path(old)) }
        return sequence
    }

    /// Loads one snapshot, checking its header, checksum and identity.
    func load<State: Codable>(_ sequence: Int64, as type: State.Type) throws(StreamStoreError) -> Payload<State> {
        let path = path(sequence)
        guard let bytes = try Directory(fileSystem: fileSystem).readWhole(path, limitBytes: 1 << 30) else {
            throw StreamStoreError(.corruptSnapshot, "The snapshot is gone.", path: path)
        }
        guard bytes.count >= Self.headerBytes, Array(bytes[0..<4]) == Self.magic else {
            throw StreamStoreError(.corruptSnapshot, "not a snapshot file (bad header)", path: path)
        }
        let version = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        guard version == Self.version else {
            throw StreamStoreError(.corruptSnapshot, "snapshot format version \(version), this build reads \(Self.version)", path: path)
        }
        let length = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let crc = bytes[16..<20].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard length == UInt64(bytes.count - Self.headerBytes) else {
            throw StreamStoreError(.corruptSnapshot, "the file is \(bytes.count) bytes but its header promises \(length + UInt64(Self.headerBytes))", path: path)
        }
        let body = Array(bytes[Self.headerBytes...])
        guard body.withUnsafeBytes({ CRC32C.checksum($0) }) == crc else {
            throw StreamStoreError(.corruptSnapshot, "the checksum does not match (the file is damaged)", path: path)
        }
        do {
            return try JSONDecoder().decode(Payload<State>.self, from: Data(body))
        } catch {
            throw StreamStoreError(.corruptSnapshot, "the state does not decode as \(State.self): \(error)", path: path)
        }
    }

    private func createFolders() throws(StreamStoreError) {
        let directory = Directory(fileSystem: fileSystem)
        var current = ""
        for component in folder.split(separator: "/", omittingEmptySubsequences: false) {
            current = current.isEmpty && folder.hasPrefix("/") ? "/" + component : (current.isEmpty ? String(component) : FileNames.join(current, String(component)))
            if !current.isEmpty && current != "/" && !directory.exists(current) { try directory.create(current) }
        }
    }
}
