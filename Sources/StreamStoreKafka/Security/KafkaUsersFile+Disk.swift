#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StreamStoreFormat

/// Reading and writing a users file: owner-only permissions checked on every load, and
/// replaced atomically (a temporary file, created 0600, renamed over the old one).
extension KafkaUsersFile {
    /// Identifies one version of the file on disk, to notice that it changed.
    package struct Stamp: Sendable, Equatable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modifiedNanoseconds: Int64
        /// The inode change time: moves with a chmod too, which can make a file unusable.
        let changedNanoseconds: Int64
    }

    /// Loads the file at `path`, refusing one that others may read or write.
    package static func load(path: String) throws(KafkaSecurityError) -> (file: KafkaUsersFile, stamp: Stamp) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT {
                throw KafkaSecurityError(.usersFileMissing, "No users file here. Create it by adding a user (users add --file FILE NAME).", path: path)
            }
            throw KafkaSecurityError(.io(errno: errno), "Cannot open the users file: \(String(cString: strerror(errno))).", path: path)
        }
        defer { _ = close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw KafkaSecurityError(.io(errno: errno), "Cannot stat the users file: \(String(cString: strerror(errno))).", path: path)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw KafkaSecurityError(.usersFileInvalid, "The users file is not a regular file.", path: path)
        }
        let mode = status.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw KafkaSecurityError(
                .usersFilePermissions,
                "The users file has mode \(String(mode, radix: 8)); it holds credentials, so only its owner may read it: chmod 600 \(path).",
                path: path)
        }
        guard status.st_size <= Int64(Limits.kafkaMaxUsersFileBytes) else {
            throw KafkaSecurityError(.usersFileInvalid, "The users file is \(status.st_size) bytes, more than \(Limits.kafkaMaxUsersFileBytes).", path: path)
        }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in pread(fd, buffer.baseAddress.map { $0 + filled }, buffer.count - filled, off_t(filled)) }
            guard count > 0 else {
                if count < 0 && errno == EINTR { continue }
                guard count == 0 else {
                    throw KafkaSecurityError(.io(errno: errno), "Cannot read the users file: \(String(cString: strerror(errno))).", path: path)
                }
                break
            }
            filled += count
        }
        guard let text = String(validating: bytes[0..<filled], as: UTF8.self) else {
            throw KafkaSecurityError(.usersFileInvalid, "The users file is not UTF-8 text.", path: path)
        }
        return (try parse(text, path: path), stamp(of: status))
    }

    /// The stamp of the file now, or nil when it cannot be looked at.
    package static func currentStamp(path: String) -> Stamp? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return stamp(of: status)
    }

    private static func stamp(of status: stat) -> Stamp {
        #if canImport(Darwin)
        let (modified, changed) = (status.st_mtimespec, status.st_ctimespec)
        #else
        let (modified, changed) = (status.st_mtim, status.st_ctim)
        #endif
        return Stamp(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modifiedNanoseconds: Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec),
            changedNanoseconds: Int64(changed.tv_sec) * 1_000_000_000 + Int64(changed.tv_nsec))
    }

    /// Writes the file atomically with mode 0600: a crash leaves the old file or the new one.
    package func save(to path: String) throws(KafkaSecurityError) {
        let temporary = path + ".tmp"
        func failure(_ operation: String, _ target: String) -> KafkaSecurityError {
            KafkaSecurityError(.io(errno: errno), "Cannot \(operation) the users file: \(String(cString: strerror(errno))).", path: target)
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create", temporary) }
        var closed = false
        defer { if !closed { _ = close(fd) } }
        // The umask could have taken bits away, never added them; set exactly 0600 regardless.
        guard fchmod(fd, 0o600) == 0 else { throw failure("chmod", temporary) }
        let bytes = Array(render().utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in write(fd, buffer.baseAddress.map { $0 + written }, buffer.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw failure("write", temporary) }
            written += count
        }
        guard fsync(fd) == 0 else { throw failure("sync", temporary) }
        closed = true
        guard close(fd) == 0 else { throw failure("close", temporary) }
        guard rename(temporary, path) == 0 else { throw failure("rename", temporary) }
        let folder = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."
        let folderFd = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFd >= 0 {
            _ = fsync(folderFd)
            _ = close(folderFd)
        }
    }
}
