import Foundation
import StreamStoreTestSupport

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// A file system that forwards to the real one, counts fdatasync calls and bytes read, and can fail the next
/// fdatasync or pwrite with a chosen errno: the seam's first use in tests.
final class CountingFileSystem: ForwardingFileSystem, @unchecked Sendable {
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
}
