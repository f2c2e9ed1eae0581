import CStreamStoreShims
import StreamStoreFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One small file mapped shared between the writer process and reader processes: the store's
/// `live` file and each partition's `published` file (docs/FORMAT.md, "Live files").
///
/// The writer maps it read-write and is the only one that writes it; readers map it read-only, so
/// a reader can run as a user who may only read the store. The file is created at its full size
/// and never shrunk, so no mapping can fault past its end (a SIGBUS Swift cannot catch), and its
/// blocks are reserved before it is mapped, so a write through the mapping cannot fault on a full
/// disk either. The header's magic is written last, so a reader that sees it sees a whole header.
package final class LiveMapping: @unchecked Sendable {
    /// One page: every live file is this size.
    package static let byteCount = 4096
    private static let versionOffset = 8
    package static let currentVersion: UInt32 = 1

    /// The mapped bytes: read-only for a reader.
    package let base: UnsafeRawPointer
    /// The same bytes, writable; nil for a reader.
    package let writable: UnsafeMutableRawPointer?
    private let fileSystem: FileSystem

    private init(base: UnsafeRawPointer, writable: UnsafeMutableRawPointer?, fileSystem: FileSystem) {
        self.base = base
        self.writable = writable
        self.fileSystem = fileSystem
    }

    deinit {
        _ = fileSystem.munmap(UnsafeMutableRawPointer(mutating: base), length: Self.byteCount)
    }

    /// Opens (creating it when missing) and maps `path` for the writer, with `magic` as its first
    /// eight bytes. A file with another magic or version is reset to zeros first: a live file is a
    /// cache of the writer's state, never a record of anything.
    package static func openForWriting(_ path: String, magic: UInt64, mode: mode_t, fileSystem: FileSystem) throws(StreamStoreError) -> LiveMapping {
        let fd = fileSystem.open(path, flags: O_RDWR | O_CREAT, mode: mode)
        guard fd >= 0 else { throw .io("open", path: path, errno: errno) }
        defer { _ = fileSystem.close(fd) }
        let size = fileSystem.fileSize(fd)
        if size < Int64(byteCount) {
            guard fileSystem.ftruncate(fd, Int64(byteCount)) == 0 else { throw .io("ftruncate", path: path, errno: errno) }
        }
        let reserved = fileSystem.fallocate(fd, 0, Int64(byteCount))
        guard reserved == 0 else { throw .io("fallocate", path: path, errno: reserved) }
        guard let address = fileSystem.mmap(fd, length: byteCount) else { throw .io("mmap", path: path, errno: errno) }
        let mapping = LiveMapping(base: UnsafeRawPointer(address), writable: address, fileSystem: fileSystem)
        let storedVersion = UInt32(truncatingIfNeeded: ss_shared_load_u64(address + versionOffset))
        if ss_shared_load_u64(address) != magic || storedVersion != currentVersion {
            ss_shared_store_u64(address, 0)
            for offset in stride(from: 8, to: byteCount, by: 8) { ss_shared_store_u64(address + offset, 0) }
            ss_shared_store_u64(address + versionOffset, UInt64(currentVersion))
            ss_shared_store_u64(address, magic)
        }
        return mapping
    }

    /// Maps `path` read-only for a reader, or returns nil when there is no such file yet, or it
    /// is not a whole live file of this kind and version (a writer is still creating it, or an
    /// older format): the caller then works without it and tries again later.
    package static func openForReading(_ path: String, magic: UInt64, fileSystem: FileSystem) throws(StreamStoreError) -> LiveMapping? {
        let fd = fileSystem.open(path, flags: O_RDONLY, mode: 0)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw .io("open", path: path, errno: code)
        }
        defer { _ = fileSystem.close(fd) }
        guard fileSystem.fileSize(fd) >= Int64(byteCount) else { return nil }
        guard let address = fileSystem.mmapReadOnly(fd, length: byteCount) else { throw .io("mmap", path: path, errno: errno) }
        let mapping = LiveMapping(base: address, writable: nil, fileSystem: fileSystem)
        guard ss_shared_load_u64(address) == magic,
            UInt32(truncatingIfNeeded: ss_shared_load_u64(address + versionOffset)) == currentVersion
        else { return nil }
        return mapping
    }

    package func load(at offset: Int) -> UInt64 { ss_shared_load_u64(base + offset) }

    /// Writer only.
    package func store(_ value: UInt64, at offset: Int) {
        guard let writable else { preconditionFailure("a reader's live mapping is read-only") }
        ss_shared_store_u64(writable + offset, value)
    }
}
