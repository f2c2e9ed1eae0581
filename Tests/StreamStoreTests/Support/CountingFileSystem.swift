import Foundation

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// A file system that forwards to the real one, counts fdatasync calls and bytes read, and can fail the next
/// fdatasync or pwrite with a chosen errno: the seam's first use in tests.
final class CountingFileSystem: FileSystem, @unchecked Sendable {
    private let real = PosixFileSystem.shared
    private let lock = NSLock()
    private var dataSyncs = 0
    private var bytesRead = 0
    private var failNextDataSync: Int32?
    private var failWrites: Int32?

    var dataSyncCount: Int { lock.withLock { dataSyncs } }
    /// Bytes pread returned, from every file.
    var readByteCount: Int { lock.withLock { bytesRead } }
    func resetCounts() { lock.withLock { (dataSyncs, bytesRead) = (0, 0) } }
    func failNextDataSync(errno code: Int32) { lock.withLock { failNextDataSync = code } }
    func failWrites(errno code: Int32?) { lock.withLock { failWrites = code } }

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 { real.open(path, flags: flags, mode: mode) }
    func close(_ fd: Int32) -> Int32 { real.close(fd) }
    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ position: Int64) -> Int {
        let read = real.pread(fd, buffer, position)
        if read > 0 { lock.withLock { bytesRead += read } }
        return read
    }
    func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        if let code = lock.withLock({ failWrites }) {
            errno = code
            return -1
        }
        return real.pwrite(fd, buffer, position)
    }
    func pwritev(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        if let code = lock.withLock({ failWrites }) {
            errno = code
            return -1
        }
        return real.pwritev(fd, first, second, position)
    }
    func fdatasync(_ fd: Int32) -> Int32 {
        let failure: Int32? = lock.withLock {
            dataSyncs += 1
            defer { failNextDataSync = nil }
            return failNextDataSync
        }
        if let failure {
            errno = failure
            return -1
        }
        return real.fdatasync(fd)
    }
    func fsync(_ fd: Int32) -> Int32 { real.fsync(fd) }
    func ftruncate(_ fd: Int32, _ length: Int64) -> Int32 { real.ftruncate(fd, length) }
    func fallocate(_ fd: Int32, _ offset: Int64, _ length: Int64) -> Int32 { real.fallocate(fd, offset, length) }
    func fileSize(_ fd: Int32) -> Int64 { real.fileSize(fd) }
    func rename(_ from: String, _ to: String) -> Int32 { real.rename(from, to) }
    func unlink(_ path: String) -> Int32 { real.unlink(path) }
    func mkdir(_ path: String, mode: mode_t) -> Int32 { real.mkdir(path, mode: mode) }
    func lockExclusive(_ fd: Int32) -> Int32 { real.lockExclusive(fd) }
    func unlock(_ fd: Int32) -> Int32 { real.unlock(fd) }
    func listDirectory(_ path: String) -> [String]? { real.listDirectory(path) }
    func mmap(_ fd: Int32, length: Int) -> UnsafeMutableRawPointer? { real.mmap(fd, length: length) }
    func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 { real.munmap(address, length: length) }
    func msync(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 { real.msync(address, length: length) }
    func fileType(_ path: String) -> FileType? { real.fileType(path) }
}
