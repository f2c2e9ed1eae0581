import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// A file system for tests that forwards to the real one and misbehaves on request: it fails a
/// chosen call with an errno, writes only part of a buffer, or loses power.
///
/// **Faults.** ``fail(_:errno:pathContaining:after:times:)`` makes calls of one kind fail, only
/// for paths that contain a substring if asked, after letting some through, once or always.
/// ``shortWrites(maxBytes:pathContaining:)`` caps every write, so callers must loop.
/// ``hold(_:pathContaining:)`` parks one sync until the test releases it, to force a race.
///
/// **Power loss.** Every file the engine touches is tracked by identity (a descriptor maps to
/// its file at `open`; renames and unlinks move or detach it) with its *durable image*: its
/// bytes as of its last successful fsync, fdatasync or msync. Name changes (creations, renames,
/// unlinks) are durable once their folder is fsynced. ``powerLoss(random:waitingSeconds:)`` rewrites the
/// disk as a power cut could have left it:
///
/// - In each folder, a random prefix of the name changes made since its last fsync survives;
///   the rest are undone, newest first (a created file vanishes, a rename is reversed and the
///   file it replaced returns, an unlinked file returns).
/// - Each file holds its durable image overwritten from the first byte where it differs from
///   the current content by a random-length prefix of that current content (a torn write).
///   Bytes past the cut keep their durable value; a shrink since the last sync persists or not
///   at random; sometimes the size grew but the data never arrived, leaving zeros.
///
/// Simplifications, each on the side of keeping the model readable: folders themselves
/// (`mkdir`) are always durable; msync makes the synced range durable in one piece (not the
/// size); a sync makes durable the content read just before the real call, so a write racing
/// the sync counts as not durable (the stricter choice); a failed sync leaves the durable image
/// as it was, though the kernel may in truth have dropped the dirty pages. The engine must be
/// gone (every descriptor and mapping closed) before a power loss, as after a real crash.
///
/// Thread-safe: all bookkeeping is behind one lock; real calls run outside it except where a
/// path must not change between the check and the call (open, rename, unlink).
final class FaultyFileSystem: FileSystem, @unchecked Sendable {
    /// The kinds of call a fault can target.
    enum Operation: String, Sendable, CustomStringConvertible {
        /// pwrite and pwritev.
        case write
        case fdatasync
        /// fsync of a file or of a folder.
        case fsync
        case ftruncate
        case rename
        case unlink
        case mmap
        case fallocate

        var description: String { rawValue }
    }

    /// How many times an injected fault fires once it is armed.
    enum Repeat: Sendable {
        case once
        case times(Int)
        case always
    }

    // Not private: FaultyFileSystem+PowerLoss.swift reads the tracking state below.
    let real = PosixFileSystem.shared
    /// Guards the bookkeeping; broadcast when a descriptor or mapping goes, for waitUntilClosed.
    let lock = NSCondition()

    // MARK: Fault configuration (lock held)

    private struct Fault {
        var operation: Operation
        var errno: Int32
        var pathContaining: String?
        /// Matching calls still let through before the fault fires.
        var skip: Int
        /// Fires left; nil fires forever.
        var remaining: Int?
    }

    private var faults: [Fault] = []
    private var shortWrite: (maxBytes: Int, pathContaining: String?)?
    private var holds: [(operation: Operation, pathContaining: String?, gate: Gate)] = []
    private var fired: [Operation: Int] = [:]
    private var calls: [Operation: Int] = [:]

    // MARK: Power-loss bookkeeping (lock held)

    /// One file, by identity: it keeps its durable image across renames.
    final class TrackedFile {
        /// Where it is now; nil once it was unlinked or replaced by a rename.
        var path: String?
        var durable: [UInt8]
        /// Orders durable images taken by syncs that raced each other.
        var durableGeneration = 0
        /// The content it had when it lost its name, for bringing it back.
        var detachedContent: [UInt8]?

        init(path: String?, durable: [UInt8]) {
            self.path = path
            self.durable = durable
        }
    }

    /// A change to a folder's names, not yet made durable by an fsync of the folder.
    enum NameChange {
        case created(TrackedFile)
        case renamed(TrackedFile, from: String, to: String, replaced: TrackedFile?)
        case unlinked(TrackedFile, path: String)

        /// The files this change names.
        var files: [TrackedFile] {
            switch self {
            case .created(let file), .unlinked(let file, _): return [file]
            case .renamed(let file, _, _, let replaced): return [file] + (replaced.map { [$0] } ?? [])
            }
        }

        /// Puts the names back as they were before this change (on the bookkeeping only).
        func undo() {
            switch self {
            case .created(let file):
                file.path = nil
            case .renamed(let file, let from, let to, let replaced):
                file.path = from
                replaced?.path = to
            case .unlinked(let file, let path):
                file.path = path
            }
        }
    }

    var filesByPath: [String: TrackedFile] = [:]
    private var filesByDescriptor: [Int32: TrackedFile] = [:]
    private var folderDescriptors: [Int32: String] = [:]
    private var mappings: [UnsafeMutableRawPointer: (file: TrackedFile, fd: Int32)] = [:]
    var pendingNameChanges: [String: [NameChange]] = [:]
    private var generation = 0

    // MARK: Test verbs

    /// Makes calls of `operation` fail with `errno`: only on paths containing `pathContaining`
    /// when given, after `after` matching calls went through, `times` times.
    func fail(_ operation: Operation, errno code: Int32, pathContaining: String? = nil, after: Int = 0, times: Repeat = .once) {
        let remaining: Int?
        switch times {
        case .once: remaining = 1
        case .times(let count): remaining = count
        case .always: remaining = nil
        }
        lock.withLock {
            faults.append(Fault(operation: operation, errno: code, pathContaining: pathContaining, skip: after, remaining: remaining))
        }
    }

    /// Every write (pwrite, pwritev) to a matching path writes at most `maxBytes` bytes and
    /// returns that count; nil writes whole buffers again.
    func shortWrites(maxBytes: Int?, pathContaining: String? = nil) {
        lock.withLock { shortWrite = maxBytes.map { (max(1, $0), pathContaining) } }
    }

    /// Parks the next fdatasync or fsync (of a file) matching `operation` and `pathContaining`
    /// until the returned gate is released; it then goes on, failing if a fault is armed by then.
    func hold(_ operation: Operation, pathContaining: String? = nil) -> Gate {
        precondition(operation == .fdatasync || operation == .fsync, "only syncs can be held")
        let gate = Gate()
        lock.withLock { holds.append((operation, pathContaining, gate)) }
        return gate
    }

    /// Removes every fault and short-write cap.
    func clearFaults() {
        lock.withLock {
            faults.removeAll()
            shortWrite = nil
        }
    }

    /// How many times an injected fault of this kind fired.
    func firedCount(_ operation: Operation) -> Int { lock.withLock { fired[operation, default: 0] } }

    /// How many calls of this kind were made (failed ones included).
    func callCount(_ operation: Operation) -> Int { lock.withLock { calls[operation, default: 0] } }

    /// Descriptors and mappings the engine has open through this file system.
    var openCount: (descriptors: Int, mappings: Int) {
        lock.withLock { (filesByDescriptor.count + folderDescriptors.count, mappings.count) }
    }

    /// Files the engine has open (by descriptor or mapping), sorted, for failure messages.
    var openPaths: [String] {
        lock.withLock {
            let files = filesByDescriptor.values.map { $0.path ?? "(unlinked)" } + mappings.values.map { "mapped " + ($0.file.path ?? "(unlinked)") }
            return (files + folderDescriptors.values).sorted()
        }
    }

    /// Waits until the engine closed everything, as a dropped Store does shortly after its last
    /// reference goes (a queued fsync may still hold a file for a moment); each close and unmap
    /// wakes it. True when everything was closed within `timeoutSeconds`.
    @discardableResult
    func waitUntilClosed(timeoutSeconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        return lock.withLock {
            while !filesByDescriptor.isEmpty || !folderDescriptors.isEmpty || !mappings.isEmpty {
                guard lock.wait(until: deadline) else { return false }
            }
            return true
        }
    }

    // MARK: FileSystem

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        let path = Self.normalized(path)
        return lock.withLock {
            if flags & O_DIRECTORY != 0 {
                let fd = real.open(path, flags: flags, mode: mode)
                if fd >= 0 { folderDescriptors[fd] = path }
                return fd
            }
            let existed = real.fileType(path) == .regular
            let fd = real.open(path, flags: flags, mode: mode)
            let code = errno
            guard fd >= 0 else { return fd }
            let file: TrackedFile
            if existed {
                file = trackExisting(path)
            } else {
                // A new name: it survives a power cut only once its folder is fsynced.
                file = TrackedFile(path: path, durable: [])
                filesByPath[path] = file
                pendingNameChanges[Self.folder(of: path), default: []].append(.created(file))
            }
            filesByDescriptor[fd] = file
            errno = code
            return fd
        }
    }

    func close(_ fd: Int32) -> Int32 {
        // Closed and forgotten in one locked step: forgetting first would let waitUntilClosed
        // report a descriptor closed (and its flock released) a moment before it is, and closing
        // first would let an open reuse the number before it is forgotten.
        lock.withLock {
            let result = real.close(fd)
            filesByDescriptor[fd] = nil
            folderDescriptors[fd] = nil
            lock.broadcast()
            return result
        }
    }

    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ position: Int64) -> Int {
        real.pread(fd, buffer, position)
    }

    func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        switch writeDecision(fd) {
        case .fail(let code):
            errno = code
            return -1
        case .cap(let maxBytes) where buffer.count > maxBytes:
            return real.pwrite(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<maxBytes]), position)
        default:
            return real.pwrite(fd, buffer, position)
        }
    }

    func pwritev(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        switch writeDecision(fd) {
        case .fail(let code):
            errno = code
            return -1
        case .cap(let maxBytes) where first.count + second.count > maxBytes:
            if first.count >= maxBytes {
                return real.pwrite(fd, UnsafeRawBufferPointer(rebasing: first[0..<maxBytes]), position)
            }
            return real.pwritev(fd, first, UnsafeRawBufferPointer(rebasing: second[0..<(maxBytes - first.count)]), position)
        default:
            return real.pwritev(fd, first, second, position)
        }
    }

    func fdatasync(_ fd: Int32) -> Int32 {
        syncFile(fd, operation: .fdatasync) { real.fdatasync(fd) }
    }

    func fsync(_ fd: Int32) -> Int32 {
        let folder: String? = lock.withLock { folderDescriptors[fd] }
        guard let folder else { return syncFile(fd, operation: .fsync) { real.fsync(fd) } }
        if let code = injectedFault(.fsync, path: folder) {
            errno = code
            return -1
        }
        let result = real.fsync(fd)
        if result == 0 {
            let code = errno
            lock.withLock { pendingNameChanges[folder] = nil }
            errno = code
        }
        return result
    }

    func ftruncate(_ fd: Int32, _ length: Int64) -> Int32 {
        if let code = injectedFault(.ftruncate, path: path(of: fd)) {
            errno = code
            return -1
        }
        return real.ftruncate(fd, length)
    }

    func fallocate(_ fd: Int32, _ offset: Int64, _ length: Int64) -> Int32 {
        if let code = injectedFault(.fallocate, path: path(of: fd)) { return code }
        return real.fallocate(fd, offset, length)
    }

    func fileSize(_ fd: Int32) -> Int64 { real.fileSize(fd) }

    func rename(_ from: String, _ to: String) -> Int32 {
        let from = Self.normalized(from)
        let to = Self.normalized(to)
        if let code = injectedFault(.rename, paths: [from, to]) {
            errno = code
            return -1
        }
        return lock.withLock {
            guard real.fileType(from) == .regular else { return real.rename(from, to) }
            let moved = trackExisting(from)
            let replaced = real.fileType(to) == .regular ? trackExisting(to) : nil
            let replacedContent = replaced.map { _ in Self.readFile(at: to) }
            let result = real.rename(from, to)
            let code = errno
            if result == 0 {
                replaced?.path = nil
                replaced?.detachedContent = replacedContent
                moved.path = to
                filesByPath[from] = nil
                filesByPath[to] = moved
                pendingNameChanges[Self.folder(of: to), default: []].append(.renamed(moved, from: from, to: to, replaced: replaced))
            }
            errno = code
            return result
        }
    }

    func unlink(_ path: String) -> Int32 {
        let path = Self.normalized(path)
        if let code = injectedFault(.unlink, path: path) {
            errno = code
            return -1
        }
        return lock.withLock {
            guard real.fileType(path) == .regular else { return real.unlink(path) }
            let file = trackExisting(path)
            let content = Self.readFile(at: path)
            let result = real.unlink(path)
            let code = errno
            if result == 0 {
                file.path = nil
                file.detachedContent = content
                filesByPath[path] = nil
                pendingNameChanges[Self.folder(of: path), default: []].append(.unlinked(file, path: path))
            }
            errno = code
            return result
        }
    }

    func mkdir(_ path: String, mode: mode_t) -> Int32 { real.mkdir(path, mode: mode) }
    func lockExclusive(_ fd: Int32) -> Int32 { real.lockExclusive(fd) }
    func unlock(_ fd: Int32) -> Int32 { real.unlock(fd) }
    func listDirectory(_ path: String) -> [String]? { real.listDirectory(path) }

    func mmap(_ fd: Int32, length: Int) -> UnsafeMutableRawPointer? {
        if let code = injectedFault(.mmap, path: path(of: fd)) {
            errno = code
            return nil
        }
        let address = real.mmap(fd, length: length)
        if let address {
            let code = errno
            lock.withLock {
                if let file = filesByDescriptor[fd] { mappings[address] = (file, fd) }
            }
            errno = code
        }
        return address
    }

    func munmap(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 {
        lock.withLock {
            mappings[address] = nil
            lock.broadcast()
        }
        return real.munmap(address, length: length)
    }

    func msync(_ address: UnsafeMutableRawPointer, length: Int) -> Int32 {
        guard let mapped = lock.withLock({ mappings[address] }) else { return real.msync(address, length: length) }
        let file = mapped.file
        let (ticket, current) = snapshot(mapped.fd)
        let result = real.msync(address, length: length)
        if result == 0 {
            let code = errno
            lock.withLock {
                guard ticket > file.durableGeneration else { return }
                // Only the mapped range is written back; the size is not synced by msync.
                var image = file.durable
                let covered = min(length, current.count)
                if image.count < covered { image += [UInt8](repeating: 0, count: covered - image.count) }
                image.replaceSubrange(0..<covered, with: current[0..<covered])
                file.durable = image
                file.durableGeneration = ticket
            }
            errno = code
        }
        return result
    }

    func fileType(_ path: String) -> FileType? { real.fileType(path) }

    // MARK: Helpers

    private enum WriteDecision {
        case fail(Int32)
        case cap(Int)
        case whole
    }

    private func writeDecision(_ fd: Int32) -> WriteDecision {
        let path = path(of: fd)
        if let code = injectedFault(.write, path: path) { return .fail(code) }
        return lock.withLock {
            guard let shortWrite, Self.matches(path, shortWrite.pathContaining) else { return .whole }
            return .cap(shortWrite.maxBytes)
        }
    }

    /// The errno to fail this call with, if a fault is armed for it; counts the call.
    private func injectedFault(_ operation: Operation, path: String?) -> Int32? {
        injectedFault(operation, paths: [path])
    }

    /// Like ``injectedFault(_:path:)`` for a call that names several paths (rename): a fault
    /// matches when any of them does.
    private func injectedFault(_ operation: Operation, paths: [String?]) -> Int32? {
        lock.withLock {
            calls[operation, default: 0] += 1
            let index = faults.firstIndex { fault in
                fault.operation == operation && paths.contains { Self.matches($0, fault.pathContaining) }
            }
            guard let index else { return nil }
            if faults[index].skip > 0 {
                faults[index].skip -= 1
                return nil
            }
            let code = faults[index].errno
            if let remaining = faults[index].remaining {
                if remaining <= 1 { faults.remove(at: index) } else { faults[index].remaining = remaining - 1 }
            }
            fired[operation, default: 0] += 1
            return code
        }
    }

    private func syncFile(_ fd: Int32, operation: Operation, _ sync: () -> Int32) -> Int32 {
        let file: TrackedFile? = lock.withLock { filesByDescriptor[fd] }
        let gate: Gate? = lock.withLock {
            guard let index = holds.firstIndex(where: { $0.operation == operation && Self.matches(file?.path, $0.pathContaining) }) else {
                return nil
            }
            return holds.remove(at: index).gate
        }
        gate?.pass()
        if let code = injectedFault(operation, path: file?.path) {
            // The durable image stays as it was: a failed sync may have written nothing.
            errno = code
            return -1
        }
        guard let file else { return sync() }
        let (ticket, content) = snapshot(fd)
        let result = sync()
        if result == 0 {
            let code = errno
            lock.withLock {
                if ticket > file.durableGeneration {
                    file.durable = content
                    file.durableGeneration = ticket
                }
            }
            errno = code
        }
        return result
    }

    /// The content of an open file now, with a ticket ordering it among snapshots.
    private func snapshot(_ fd: Int32) -> (ticket: Int, content: [UInt8]) {
        let ticket: Int = lock.withLock {
            generation += 1
            return generation
        }
        return (ticket, Self.readFile(descriptor: fd))
    }

    private func path(of fd: Int32) -> String? {
        lock.withLock { filesByDescriptor[fd]?.path ?? folderDescriptors[fd] }
    }

    /// The tracked file at `path`, adopting one this file system has not seen yet: a file that
    /// was already there when we first looked is taken as durable (lock held).
    private func trackExisting(_ path: String) -> TrackedFile {
        if let file = filesByPath[path] { return file }
        let file = TrackedFile(path: path, durable: Self.readFile(at: path))
        filesByPath[path] = file
        return file
    }

    private static func matches(_ path: String?, _ substring: String?) -> Bool {
        guard let substring else { return true }
        return path?.contains(substring) ?? false
    }

    static func normalized(_ path: String) -> String {
        var path = path
        while path.contains("//") { path = path.replacingOccurrences(of: "//", with: "/") }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func readFile(at path: String) -> [UInt8] {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { Glibc.close(fd) }
        return readFile(descriptor: fd)
    }

    private static func readFile(descriptor fd: Int32) -> [UInt8] {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        bytes.withUnsafeMutableBytes { raw in
            while done < raw.count {
                let count = Glibc.pread(fd, raw.baseAddress! + done, raw.count - done, off_t(done))
                if count <= 0 { break }
                done += count
            }
        }
        return Array(bytes[0..<done])
    }
}
