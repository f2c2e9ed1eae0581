import Foundation
import StreamStoreLog

/// A file system that passes every call to the real one, except, once armed, writes or
/// fdatasyncs of files whose path contains a substring: after letting a number through, they
/// fail with an errno. For test targets that cannot reach `FaultyFileSystem` (the store's own
/// tests' full model); hand it to a store through `Store.Options.fileSystem`.
package final class FailingFileSystem: ForwardingFileSystem, @unchecked Sendable {
    /// The calls a fault can target.
    package enum Operation: Sendable {
        /// pwrite and pwritev.
        case write
        case fdatasync
    }

    private struct Fault {
        var operation: Operation
        var errno: Int32
        var pathContaining: String
        var passesLeft: Int
    }

    private let lock = NSLock()
    private var paths: [Int32: String] = [:]
    private var faults: [Fault] = []

    package init() {}

    /// From now on, calls of `operation` on files whose path contains `pathContaining` fail
    /// with `errno`, after `after` of them went through.
    package func fail(_ operation: Operation, errno code: Int32, pathContaining: String, after: Int = 0) {
        lock.withLock { faults.append(Fault(operation: operation, errno: code, pathContaining: pathContaining, passesLeft: after)) }
    }

    /// Every call goes through again.
    package func clearFaults() { lock.withLock { faults.removeAll() } }

    package func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        let fd = PosixFileSystem.shared.open(path, flags: flags, mode: mode)
        if fd >= 0 { lock.withLock { paths[fd] = path } }
        return fd
    }

    package func close(_ fd: Int32) -> Int32 {
        // Forgotten and closed in one step, so a reused descriptor number never keeps a stale path.
        lock.withLock {
            paths[fd] = nil
            return PosixFileSystem.shared.close(fd)
        }
    }

    package func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        if let code = injected(.write, fd) {
            errno = code
            return -1
        }
        return PosixFileSystem.shared.pwrite(fd, buffer, position)
    }

    package func pwritev(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        if let code = injected(.write, fd) {
            errno = code
            return -1
        }
        return PosixFileSystem.shared.pwritev(fd, first, second, position)
    }

    package func fdatasync(_ fd: Int32) -> Int32 {
        if let code = injected(.fdatasync, fd) {
            errno = code
            return -1
        }
        return PosixFileSystem.shared.fdatasync(fd)
    }

    /// The errno to fail this call with, if a fault matches it.
    private func injected(_ operation: Operation, _ fd: Int32) -> Int32? {
        lock.withLock {
            guard let path = paths[fd],
                let index = faults.firstIndex(where: { $0.operation == operation && path.contains($0.pathContaining) })
            else { return nil }
            guard faults[index].passesLeft == 0 else {
                faults[index].passesLeft -= 1
                return nil
            }
            return faults[index].errno
        }
    }
}
