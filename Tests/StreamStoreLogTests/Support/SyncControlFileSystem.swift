import Foundation
import StreamStoreTestSupport

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// The real file system with a hand on `fdatasync`, the call group commit makes: it counts the
/// calls per file, parks one until the test releases it, and fails the next ones on request.
/// Everything else goes straight through.
final class SyncControlFileSystem: ForwardingFileSystem, @unchecked Sendable {
    private let real = PosixFileSystem.shared
    private let lock = NSLock()
    private var paths: [Int32: String] = [:]
    private var syncedPaths: [String] = []
    private var gates: [(pathContaining: String, gate: Gate)] = []
    private var failures: [(pathContaining: String, errno: Int32)] = []

    /// Parks the next fdatasync of a file whose path contains `pathContaining`.
    func hold(pathContaining: String) -> Gate {
        let gate = Gate()
        lock.withLock { gates.append((pathContaining, gate)) }
        return gate
    }

    /// Makes every later fdatasync of a matching file fail with `errno` (a held one too, once
    /// released).
    func failSyncs(pathContaining: String, errno code: Int32) {
        lock.withLock { failures.append((pathContaining, code)) }
    }

    func clearFailures() {
        lock.withLock { failures.removeAll() }
    }

    /// How many fdatasyncs reached the disk or failed, of files whose path contains `text`.
    func syncCount(pathContaining text: String) -> Int {
        lock.withLock { syncedPaths.filter { $0.contains(text) }.count }
    }

    func fdatasync(_ fd: Int32) -> Int32 {
        let path = lock.withLock { paths[fd] ?? "" }
        let gate: Gate? = lock.withLock {
            guard let index = gates.firstIndex(where: { path.contains($0.pathContaining) }) else { return nil }
            return gates.remove(at: index).gate
        }
        gate?.pass()
        let failure = lock.withLock {
            syncedPaths.append(path)
            return failures.first { path.contains($0.pathContaining) }?.errno
        }
        if let failure {
            errno = failure
            return -1
        }
        return real.fdatasync(fd)
    }

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        lock.withLock {
            let fd = real.open(path, flags: flags, mode: mode)
            let code = errno
            if fd >= 0 { paths[fd] = path }
            errno = code
            return fd
        }
    }

    func close(_ fd: Int32) -> Int32 {
        lock.withLock {
            paths[fd] = nil
            return real.close(fd)
        }
    }
}
