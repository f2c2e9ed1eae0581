import StreamStoreFormat
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor that turns the seam's raw results into ``StreamStoreError``s.
///
/// The descriptor closes when the last reference goes, so a reader holding a `File` keeps
/// reading safely even after the segment was closed by the cache or unlinked by retention.
package final class File: @unchecked Sendable {
    package let fd: Int32
    let path: String
    let fileSystem: FileSystem

    private init(fd: Int32, path: String, fileSystem: FileSystem) {
        self.fd = fd
        self.path = path
        self.fileSystem = fileSystem
    }

    deinit { _ = fileSystem.close(fd) }

    /// Opens `path`; `create` makes it (owner-only) when missing. Never follows a symbolic link.
    package static func open(
        _ path: String, create: Bool, readOnly: Bool = false, fileSystem: FileSystem,
        permissions: mode_t = 0o600
    ) throws(StreamStoreError) -> File {
        // O_CLOEXEC here as well as in PosixFileSystem: whatever file system is plugged into the
        // seam, a child process the embedding service spawns must not inherit the store's
        // descriptors (an inherited `store.lock` would keep the store locked after it is gone).
        var flags: Int32 = (readOnly ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC
        if create { flags |= O_CREAT }
        let fd = fileSystem.open(path, flags: flags, mode: permissions)
        guard fd >= 0 else { throw .io("open", path: path, errno: errno) }
        return File(fd: fd, path: path, fileSystem: fileSystem)
    }

    /// Writes all of `buffer` at `position`, retrying short writes and EINTR.
    package func write(_ buffer: UnsafeRawBufferPointer, at position: Int64) throws(StreamStoreError) {
        var done = 0
        while done < buffer.count {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[done...])
            let written = fileSystem.pwrite(fd, rest, position + Int64(done))
            if written < 0 {
                if errno == EINTR { continue }
                throw .io("write", path: path, errno: errno)
            }
            if written == 0 { throw .io("write", path: path, errno: EIO) }
            done += written
        }
    }

    /// Writes all of `bytes` at `position`.
    package func write(_ bytes: [UInt8], at position: Int64) throws(StreamStoreError) {
        try withBytes(bytes) { (buffer) throws(StreamStoreError) in try write(buffer, at: position) }
    }

    /// Writes `header` then `body` at `position` with one system call when it can (pwritev).
    func write(header: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer, at position: Int64) throws(StreamStoreError) {
        let total = header.count + body.count
        var written = fileSystem.pwritev(fd, header, body, position)
        while written < 0 && errno == EINTR { written = fileSystem.pwritev(fd, header, body, position) }
        if written < 0 { throw .io("write", path: path, errno: errno) }
        if written == total { return }
        // A short write: finish the rest piece by piece.
        if written < header.count {
            try write(UnsafeRawBufferPointer(rebasing: header[written...]), at: position + Int64(written))
            try write(body, at: position + Int64(header.count))
        } else {
            let done = written - header.count
            try write(UnsafeRawBufferPointer(rebasing: body[done...]), at: position + Int64(written))
        }
    }

    /// Reads up to `buffer.count` bytes at `position`; returns how many were read (fewer only at
    /// the end of the file).
    package func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws(StreamStoreError) -> Int {
        var done = 0
        while done < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
            let count = fileSystem.pread(fd, rest, position + Int64(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw .io("read", path: path, errno: errno)
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Makes written data durable (fdatasync: metadata other than the size is not needed).
    package func syncData() throws(StreamStoreError) {
        guard fileSystem.fdatasync(fd) == 0 else { throw .io("fdatasync", path: path, errno: errno) }
    }

    package func sync() throws(StreamStoreError) {
        guard fileSystem.fsync(fd) == 0 else { throw .io("fsync", path: path, errno: errno) }
    }

    package func truncate(to length: Int64) throws(StreamStoreError) {
        guard fileSystem.ftruncate(fd, length) == 0 else { throw .io("ftruncate", path: path, errno: errno) }
    }

    func allocate(length: Int64) throws(StreamStoreError) {
        let result = fileSystem.fallocate(fd, 0, length)
        guard result == 0 else { throw .io("fallocate", path: path, errno: result) }
    }

    package func size() throws(StreamStoreError) -> Int64 {
        let size = fileSystem.fileSize(fd)
        guard size >= 0 else { throw .io("fstat", path: path, errno: errno) }
        return size
    }
}

/// Folder and whole-file operations through the seam.
package struct Directory {
    let fileSystem: FileSystem

    package init(fileSystem: FileSystem) { self.fileSystem = fileSystem }

    package func create(_ path: String) throws(StreamStoreError) {
        if fileSystem.mkdir(path, mode: 0o700) != 0 && errno != EEXIST {
            throw .io("mkdir", path: path, errno: errno)
        }
    }

    /// Creates `path` and any missing folders above it (as `mkdir -p` does), each with the
    /// store's folder mode. A component that exists but is not a folder fails with `ENOTDIR`.
    package func createWithParents(_ path: String) throws(StreamStoreError) {
        var missing: [String] = []
        var current = path
        while !current.isEmpty, current != "/", fileSystem.fileType(current) == nil {
            missing.append(current)
            guard let slash = current.lastIndex(of: "/") else { break }
            current = String(current[..<slash])
        }
        for folder in missing.reversed() { try create(folder) }
    }

    /// fsync of a folder makes renames and new names in it durable.
    package func sync(_ path: String) throws(StreamStoreError) {
        let fd = fileSystem.open(path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, mode: 0)
        guard fd >= 0 else { throw .io("open folder", path: path, errno: errno) }
        defer { _ = fileSystem.close(fd) }
        guard fileSystem.fsync(fd) == 0 else { throw .io("fsync folder", path: path, errno: errno) }
    }

    package func list(_ path: String) throws(StreamStoreError) -> [String] {
        guard let names = fileSystem.listDirectory(path) else { throw .io("list", path: path, errno: errno) }
        return names
    }

    package func remove(_ path: String) throws(StreamStoreError) {
        if fileSystem.unlink(path) != 0 && errno != ENOENT { throw .io("unlink", path: path, errno: errno) }
    }

    package func rename(_ from: String, to: String) throws(StreamStoreError) {
        guard fileSystem.rename(from, to) == 0 else { throw .io("rename", path: from, errno: errno) }
    }

    /// Replaces `path` with `bytes` atomically: write a temporary file, fsync it, rename it over
    /// the old one, fsync the folder. A crash leaves the old file or the new one, never a mix.
    /// A failure before the rename removes the temporary file again: on a full disk it holds
    /// only the space the write failed for.
    package func writeAtomically(_ bytes: [UInt8], to path: String, folder: String) throws(StreamStoreError) {
        let temporary = path + FileNames.temporarySuffix
        do throws(StreamStoreError) {
            let file = try File.open(temporary, create: true, fileSystem: fileSystem)
            try file.truncate(to: 0)
            try file.write(bytes, at: 0)
            try file.sync()
        } catch {
            try? remove(temporary)
            throw error
        }
        try rename(temporary, to: path)
        try sync(folder)
    }

    /// The whole content of a small file, or nil when it does not exist.
    package func readWhole(_ path: String, limitBytes: Int) throws(StreamStoreError) -> [UInt8]? {
        let fd = fileSystem.open(path, flags: O_RDONLY | O_NOFOLLOW | O_CLOEXEC, mode: 0)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .io("open", path: path, errno: errno)
        }
        defer { _ = fileSystem.close(fd) }
        let size = fileSystem.fileSize(fd)
        guard size >= 0 else { throw .io("fstat", path: path, errno: errno) }
        guard size <= limitBytes else {
            throw StreamStoreError(.fileTooLarge, "File is \(size) bytes, more than the \(limitBytes) expected; it is not one of ours.", path: path)
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let count = bytes.withUnsafeMutableBytes { fileSystem.pread(fd, $0, 0) }
        guard count >= 0 else { throw .io("read", path: path, errno: errno) }
        return Array(bytes[0..<count])
    }

    /// True when a file or folder (not a symbolic link) is at `path`.
    package func exists(_ path: String) -> Bool {
        let type = fileSystem.fileType(path)
        return type == .regular || type == .directory
    }

    package func isDirectory(_ path: String) -> Bool { fileSystem.fileType(path) == .directory }
}
