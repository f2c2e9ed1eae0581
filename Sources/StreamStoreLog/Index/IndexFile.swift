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
/// (``init(snapshotOf:entryBytes:entries:)``), a read-only index that never changes, and as the
/// writer's index grows it reads only the new entries (``extendingSnapshot(with:)``).
final class IndexFile: @unchecked Sendable {
    let path: String
    let entryBytes: Int
    let maxEntries: Int
    /// Nil for a snapshot.
    private let file: File?
    /// A snapshot's memory, shared with the snapshots that extend it; nil for a mapped file.
    private let snapshotStorage: SnapshotStorage?
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
        snapshotStorage = nil
        file = try File.open(path, create: true, fileSystem: fileSystem)
        try remap(byteCount: entryCount * entryBytes, allocate: false)
    }

    /// A read-only index over a copy of `entries` (whole entries, already validated), for a
    /// reader that must not map the file.
    convenience init(snapshotOf path: String, entryBytes: Int, entries: [UInt8]) {
        let bytes = entries.count / entryBytes * entryBytes
        let storage = SnapshotStorage(capacityBytes: max(bytes, Limits.initialIndexBytes))
        entries.withUnsafeBytes { source in storage.append(UnsafeRawBufferPointer(rebasing: source[0..<bytes])) }
        self.init(path: path, entryBytes: entryBytes, storage: storage, entryCount: bytes / entryBytes)
    }

    private init(path: String, entryBytes: Int, storage: SnapshotStorage, entryCount: Int) {
        self.path = path
        self.entryBytes = entryBytes
        count = entryCount
        maxEntries = max(1, entryCount)
        file = nil
        snapshotStorage = storage
        if entryCount > 0 {
            mapping = storage.base
            mappedBytes = entryCount * entryBytes
        }
    }

    /// A snapshot holding this one's entries and then `entries` (whole entries, validated as
    /// following this one's last). The memory is shared: the new entries go after this
    /// snapshot's in the same storage when nothing was put there yet and they fit, so a reader
    /// following a growing index copies each entry once (amortized: the storage doubles).
    /// This snapshot keeps seeing only its own entries, which never change.
    func extendingSnapshot(with entries: UnsafeRawBufferPointer) -> IndexFile? {
        guard let storage = snapshotStorage else { return nil }
        let bytes = count * entryBytes
        let added = entries.count / entryBytes * entryBytes
        let whole = UnsafeRawBufferPointer(rebasing: entries[0..<added])
        if storage.tryAppend(whole, after: bytes) {
            return IndexFile(path: path, entryBytes: entryBytes, storage: storage, entryCount: count + added / entryBytes)
        }
        let grown = SnapshotStorage(capacityBytes: max(storage.capacityBytes * 2, bytes + added))
        grown.append(UnsafeRawBufferPointer(start: storage.base, count: bytes))
        grown.append(whole)
        return IndexFile(path: path, entryBytes: entryBytes, storage: grown, entryCount: count + added / entryBytes)
    }

    deinit {
        guard let mapping, let file else { return }
        _ = file.fileSystem.munmap(mapping, length: mappedBytes)
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

/// The memory under a reader's index snapshots: filled from the front, never changed below
/// its fill, so every snapshot over it reads its own leading entries without a lock.
final class SnapshotStorage: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacityBytes: Int
    private let filled = Locked(0)

    init(capacityBytes: Int) {
        self.capacityBytes = max(capacityBytes, 8)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacityBytes, alignment: 8)
    }

    deinit { base.deallocate() }

    /// Appends `bytes` after the fill (the caller made sure they fit).
    func append(_ bytes: UnsafeRawBufferPointer) {
        _ = tryAppend(bytes, after: filled.withLock { $0 })
    }

    /// Appends `bytes` when the fill is exactly `fillBytes` (no other snapshot extended this
    /// storage past it) and they fit.
    func tryAppend(_ bytes: UnsafeRawBufferPointer, after fillBytes: Int) -> Bool {
        filled.withLock { fill in
            guard fill == fillBytes, fill + bytes.count <= capacityBytes else { return false }
            if let source = bytes.baseAddress, bytes.count > 0 { (base + fill).copyMemory(from: source, byteCount: bytes.count) }
            fill += bytes.count
            return true
        }
    }
}
