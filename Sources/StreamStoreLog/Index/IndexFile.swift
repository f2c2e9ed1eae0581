import StreamStoreFormat
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A memory-mapped file of fixed-size, big-endian entries: the storage under ``OffsetIndex``
/// and ``TimeIndex`` (docs/FORMAT.md, "Offset index" and "Time index").
///
/// While its segment is active the file is preallocated beyond its entries (first
/// ``Limits/initialIndexBytes``, doubling up to the configured maximum) so appends are stores
/// into the mapping, not system calls; on roll or clean close it is trimmed to its entries.
///
/// Every access to the mapping happens with `lock` held and no pointer into it escapes, so the
/// file can be remapped to grow or trimmed at any time without a reader faulting on a page that
/// is gone (a SIGBUS cannot be caught in Swift).
///
/// A reader in another process never maps a writer's index: the writer trims index files, and a
/// mapping of a shrunk file faults. It reads the entries into memory instead
/// (``init(snapshotOf:entryBytes:entries:)``), a read-only index that never changes.
final class IndexFile: @unchecked Sendable {
    let path: String
    let entryBytes: Int
    let maxEntries: Int
    /// Nil for a snapshot.
    private let file: File?
    private let lock = Lock()
    private var mapping: UnsafeMutableRawPointer?
    private var mappedBytes = 0
    private var count: Int
    /// True once an entry was appended since the file was last trimmed (or opened).
    private var appendedSinceTrim = false

    /// Opens (or creates) the file at `path` holding `entryCount` valid entries; the caller has
    /// validated them, or creates an empty index. Only the entries are mapped: the file grows
    /// (preallocated) on the first append that needs room, so opening a store touches nothing.
    init(path: String, entryBytes: Int, maxIndexBytes: Int, entryCount: Int, fileSystem: FileSystem) throws(StreamStoreError) {
        self.path = path
        self.entryBytes = entryBytes
        self.maxEntries = max(1, maxIndexBytes / entryBytes)
        self.count = entryCount
        file = try File.open(path, create: true, fileSystem: fileSystem)
        try remap(byteCount: entryCount * entryBytes, allocate: false)
    }

    /// A read-only index over a copy of `entries` (whole entries, already validated), for a
    /// reader that must not map the file.
    init(snapshotOf path: String, entryBytes: Int, entries: [UInt8]) {
        self.path = path
        self.entryBytes = entryBytes
        count = entries.count / entryBytes
        maxEntries = max(1, count)
        file = nil
        let bytes = count * entryBytes
        if bytes > 0 {
            let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 8)
            entries.withUnsafeBytes { source in
                if let base = source.baseAddress { copy.copyMemory(from: base, byteCount: bytes) }
            }
            mapping = copy
            mappedBytes = bytes
        }
    }

    deinit {
        guard let mapping else { return }
        if let file {
            _ = file.fileSystem.munmap(mapping, length: mappedBytes)
        } else {
            mapping.deallocate()
        }
    }

    /// The file under a writable index; a snapshot has none and refuses every change.
    private func writableFile() throws(StreamStoreError) -> File {
        guard let file else { throw StreamStoreError(.readOnly, "The index \(path) is a read-only copy.", path: path) }
        return file
    }

    var entryCount: Int { lock.withLock { count } }
    var isFull: Bool { lock.withLock { count >= maxEntries } }

    /// Maps the first `byteCount` bytes, preallocating them first when `allocate` (a store into a
    /// sparse page on a full disk would be a SIGBUS, a failed fallocate is an error).
    private func remap(byteCount: Int, allocate: Bool) throws(StreamStoreError) {
        let file = try writableFile()
        if let mapping {
            _ = file.fileSystem.munmap(mapping, length: mappedBytes)
            self.mapping = nil
            mappedBytes = 0
        }
        if allocate && byteCount > 0 { try file.allocate(length: Int64(byteCount)) }
        guard byteCount > 0 else { return }
        guard let address = file.fileSystem.mmap(file.fd, length: byteCount) else {
            throw .io("mmap", path: path, errno: errno)
        }
        mapping = address
        mappedBytes = byteCount
    }

    /// Appends one entry written by `write` into its slot. Returns false, writing nothing, when
    /// the index is full (the segment must roll).
    func append(_ write: (UnsafeMutableRawPointer) -> Void) throws(StreamStoreError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard count < maxEntries, file != nil else { return false }
        let needed = (count + 1) * entryBytes
        if needed > mappedBytes {
            let grown = max(mappedBytes * 2, needed, Limits.initialIndexBytes / entryBytes * entryBytes)
            try remap(byteCount: min(grown, maxEntries * entryBytes), allocate: true)
        }
        guard let mapping else { return false }
        write(mapping + count * entryBytes)
        count += 1
        appendedSinceTrim = true
        return true
    }

    /// Reads entry `index` through `read` (with the lock held; `index` < entryCount).
    @inline(__always)
    func withEntries<T>(_ body: (_ base: UnsafeRawPointer?, _ count: Int) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(mapping.map { UnsafeRawPointer($0) }, count)
    }

    /// Drops entries from `newCount` on (after a truncation of the log).
    func truncate(toEntryCount newCount: Int) {
        lock.withLock {
            count = min(count, max(0, newCount))
            appendedSinceTrim = true
        }
    }

    /// Shrinks the file to its entries and maps only those: done on roll and clean close.
    /// The file is fsynced so a sealed index never needs rebuilding after a crash.
    func trim() throws(StreamStoreError) {
        lock.lock()
        defer { lock.unlock() }
        guard let file else { return }
        let bytes = count * entryBytes
        // Untouched since it was opened or trimmed: the file already is exactly its entries.
        if !appendedSinceTrim && mappedBytes == bytes { return }
        appendedSinceTrim = false
        if let mapping, bytes > 0 { _ = file.fileSystem.msync(mapping, length: bytes) }
        if let mapping {
            _ = file.fileSystem.munmap(mapping, length: mappedBytes)
            self.mapping = nil
            mappedBytes = 0
        }
        try file.truncate(to: Int64(bytes))
        try file.sync()
        try remap(byteCount: bytes, allocate: false)
    }

    /// Makes the mapped entries durable.
    func flush() throws(StreamStoreError) {
        lock.lock()
        defer { lock.unlock() }
        if let file, let mapping, count > 0 {
            guard file.fileSystem.msync(mapping, length: count * entryBytes) == 0 else {
                throw .io("msync", path: path, errno: errno)
            }
        }
    }

    /// The raw bytes of a whole index file, for validation before it is trusted.
    static func readEntries(path: String, fileSystem: FileSystem) throws(StreamStoreError) -> [UInt8]? {
        try Directory(fileSystem: fileSystem).readWhole(path, limitBytes: Limits.maxIndexBytes * 2)
    }
}
