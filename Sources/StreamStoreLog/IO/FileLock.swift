import StreamStoreFormat
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStreamStoreShims

/// An advisory `flock` on a file of its own, shared between processes: consumer groups lock
/// their offset log with one and hold their members' and partitions' leases with others
/// (docs/FORMAT.md, "Consumer groups across processes").
///
/// A flock belongs to the open file description, so two `FileLock`s on one path conflict even
/// in one process, and the kernel drops a lock when the last descriptor of its description
/// closes: a process that dies, SIGKILL included, lets go of all of its locks. The calls go to
/// the kernel directly, not through the ``FileSystem`` seam's fault injection: a lock either is
/// held or is not, and no test needs one to fail.
package final class FileLock: @unchecked Sendable {
    package enum Kind: Sendable { case shared, exclusive }

    package let path: String
    let file: File

    private init(path: String, file: File) {
        self.path = path
        self.file = file
    }

    /// Opens the lock file at `path`, creating it (owner-only) when `create` is true. A lock file
    /// the process may only read is opened read-only: flock needs no write access, so a reader
    /// of a store it may not write still takes shared locks. Nil when the file does not exist
    /// and may not be created here.
    package static func open(_ path: String, create: Bool, fileSystem: FileSystem) throws(StreamStoreError) -> FileLock? {
        do throws(StreamStoreError) {
            return FileLock(path: path, file: try File.open(path, create: create, fileSystem: fileSystem))
        } catch where error.systemErrno.map({ [EACCES, EROFS, ENOENT].contains($0) }) ?? false {
            do throws(StreamStoreError) {
                return FileLock(path: path, file: try File.open(path, create: false, readOnly: true, fileSystem: fileSystem))
            } catch where error.systemErrno == ENOENT {
                return nil
            }
        }
    }

    /// Takes the lock; with `wait` false, returns false at once when another open file
    /// description holds a conflicting one. Taking a lock of the other kind converts the one
    /// held (not atomically: flock drops the old lock before it waits for the new one).
    @discardableResult
    package func lock(_ kind: Kind, wait: Bool) throws(StreamStoreError) -> Bool {
        if ss_flock_lock(file.fd, kind == .exclusive ? 1 : 0, wait ? 1 : 0) == 0 { return true }
        let code = errno
        if !wait && (code == EWOULDBLOCK || code == EAGAIN) { return false }
        throw .io("flock", path: path, errno: code)
    }

    package func unlock() { _ = ss_flock(file.fd, 0) }

    /// Runs `body` holding the lock, waiting for it first.
    package func withLock<T>(_ kind: Kind, _ body: () throws(StreamStoreError) -> T) throws(StreamStoreError) -> T {
        try lock(kind, wait: true)
        defer { unlock() }
        return try body()
    }
}

extension StreamStoreError {
    /// The errno of an I/O error, nil for any other.
    package var systemErrno: Int32? {
        if case .io(let code) = self.code { return code }
        return nil
    }
}

/// Which file a name or a descriptor is: a file replaced by a rename has a new identity, so a
/// process holding the old one open learns that it must open the path again.
package struct FileIdentity: Equatable, Sendable {
    package var device: UInt64
    package var inode: UInt64

    /// The identity of the file open as `fd`, or nil with errno set.
    package init?(descriptor fd: Int32) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        self.init(info)
    }

    /// The identity of the file at `path` (not following a symbolic link), or nil when there is
    /// none (errno set).
    package init?(path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    private init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
