#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StreamStoreLog

/// A test's file system that watches or breaks a few calls and passes every other one to the
/// real file system: it implements what it watches, and this extension supplies the rest.
package protocol ForwardingFileSystem: FileSystem {}

extension ForwardingFileSystem {
    private var real: PosixFileSystem { PosixFileSystem.shared }

    package func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 { real.open(path, flags: flags, mode: mode) }
    package func close(_ fd: Int32) -> Int32 { real.close(fd) }
    package func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ position: Int64) -> Int { real.pread(fd, buffer, position) }
    package func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ position: Int64) -> Int { real.pwrite(fd, buffer, position) }
    package func pwritev(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        real.pwritev(fd, first, second, position)
    }
    package func fdatasync(_ fd: Int32) -> Int32 { real.fdatasync(fd) }
    package func fsync(_ fd: Int32) -> Int32 { real.fsync(fd) }
    package func ftruncate(_ fd: Int32, _ length: Int64) -> Int32 { real.ftruncate(fd, length) }
    package func fallocate(_ fd: Int32, _ offset: Int64, _ length: Int64) -> Int32 { real.fallocate(fd, offset, length) }
    package func fileSize(_ fd: Int32) -> Int64 { real.fileSize(fd) }
    package func rename(_ from: String, _ to: String) -> Int32 { real.rename(from, to) }
    package func unlink(_ path: String) -> Int32 { real.unlink(path) }
    package func mkdir(_ path: String, mode: mode_t) -> Int32 { real.mkdir(path, mode: mode) }
    package func lockExclusive(_ fd: Int32) -> Int32 { real.lockExclusive(fd) }
    package func unlock(_ fd: Int32) -> Int32 { real.unlock(fd) }
    package func listDirectory(_ path: String) -> [String]? { real.listDirectory(path) }
    package func mmap(_ fd: Int32, length: Int) -> UnsafeMutableRawPointer? { real.mmap(fd, length: length) }
    package func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 { real.munmap(address, length: length) }
    package func msync(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 { real.msync(address, length: length) }
    package func fileType(_ path: String) -> FileType? { real.fileType(path) }
}
