import StreamStoreFormat
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStreamStoreShims

/// The one seam between the engine and the operating system's file calls.
///
/// Every file operation of the engine goes through a `FileSystem`, so tests can substitute one
/// that fails a chosen call (EIO, ENOSPC, short writes) or forgets what was never fsynced.
/// Methods mirror the system calls and return their raw result: `-1` with `errno` set (or an
/// errno value, for `fallocate`), so the caller decides how a failure becomes an error.
package protocol FileSystem: AnyObject, Sendable {
    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32
    func close(_ fd: Int32) -> Int32
    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ position: Int64) -> Int
    func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ position: Int64) -> Int
    /// Writes `first` then `second` at `position` (pwritev); returns bytes written or -1.
    func pwritev(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ position: Int64) -> Int
    func fdatasync(_ fd: Int32) -> Int32
    func fsync(_ fd: Int32) -> Int32
    func ftruncate(_ fd: Int32, _ length: Int64) -> Int32
    /// Returns 0 or an errno value.
    func fallocate(_ fd: Int32, _ offset: Int64, _ length: Int64) -> Int32
    func fileSize(_ fd: Int32) -> Int64
    func rename(_ from: String, _ to: String) -> Int32
    func unlink(_ path: String) -> Int32
    func mkdir(_ path: String, mode: mode_t) -> Int32
    /// flock(LOCK_EX | LOCK_NB): 0, or -1 with errno EWOULDBLOCK when another process holds it.
    func lockExclusive(_ fd: Int32) -> Int32
    /// flock(LOCK_UN).
    func unlock(_ fd: Int32) -> Int32
    /// Names in a folder, without "." and "..", or nil with errno set.
    func listDirectory(_ path: String) -> [String]?
    /// Maps `length` bytes of `fd` read-write and shared, or returns nil with errno set.
    func mmap(_ fd: Int32, length: Int) -> UnsafeMutableRawPointer?
    /// Maps `length` bytes of `fd` read-only and shared (a reader of another process's live
    /// files), or returns nil with errno set.
    func mmapReadOnly(_ fd: Int32, length: Int) -> UnsafeRawPointer?
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32
    func msync(_ address: UnsafeMutableRawPointer, length: Int) -> Int32
    /// What is at `path` (without following a symbolic link), or nil when nothing is.
    func fileType(_ path: String) -> FileType?
}

extension FileSystem {
    /// The real read-only mapping; a test file system that wants to fail it overrides this.
    package func mmapReadOnly(_ fd: Int32, length: Int) -> UnsafeRawPointer? {
        let address = Glibc.mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)
        if address == MAP_FAILED { return nil }
        return UnsafeRawPointer(address)
    }
}

package enum FileType: Equatable {
    case regular, directory, other
}

/// The real file system.
package final class PosixFileSystem: FileSystem {
    package static let shared = PosixFileSystem()

    package func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        Glibc.open(path, flags | O_CLOEXEC, mode)
    }

    package func close(_ fd: Int32) -> Int32 { Glibc.close(fd) }

    package func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ position: Int64) -> Int {
        Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(position))
    }

    package func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        Glibc.pwrite(fd, buffer.baseAddress, buffer.count, off_t(position))
    }

    package func pwritev(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        var vectors = (
            iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count),
            iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count))
        return withUnsafePointer(to: &vectors) { pointer in
            pointer.withMemoryRebound(to: iovec.self, capacity: 2) { Glibc.pwritev(fd, $0, 2, off_t(position)) }
        }
    }

    package func fdatasync(_ fd: Int32) -> Int32 { ss_fdatasync(fd) }

    package func fsync(_ fd: Int32) -> Int32 { Glibc.fsync(fd) }

    package func ftruncate(_ fd: Int32, _ length: Int64) -> Int32 { Glibc.ftruncate(fd, off_t(length)) }

    package func fallocate(_ fd: Int32, _ offset: Int64, _ length: Int64) -> Int32 {
        ss_fallocate(fd, offset, length)
    }

    package func fileSize(_ fd: Int32) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return -1 }
        return Int64(info.st_size)
    }

    package func rename(_ from: String, _ to: String) -> Int32 { Glibc.rename(from, to) }

    package func unlink(_ path: String) -> Int32 { Glibc.unlink(path) }

    package func mkdir(_ path: String, mode: mode_t) -> Int32 { Glibc.mkdir(path, mode) }

    package func lockExclusive(_ fd: Int32) -> Int32 { ss_flock(fd, 1) }

    package func unlock(_ fd: Int32) -> Int32 { ss_flock(fd, 0) }

    package func listDirectory(_ path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    package func mmap(_ fd: Int32, length: Int) -> UnsafeMutableRawPointer? {
        let address = Glibc.mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        if address == MAP_FAILED { return nil }
        return address
    }

    package func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 {
        Glibc.munmap(address, length)
    }

    package func msync(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 {
        Glibc.msync(address, length, MS_SYNC)
    }

    package func fileType(_ path: String) -> FileType? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .other
        }
    }
}
