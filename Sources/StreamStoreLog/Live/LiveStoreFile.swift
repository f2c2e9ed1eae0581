import CStreamStoreShims
import StreamStoreFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The store's `live` file: who writes the store now, and the one word every reader process
/// sleeps on while it waits for new records (docs/FORMAT.md, "Live files").
///
/// ```
/// 0   magic "SSLIVE\0\0"   8  version (1)
/// 16  writer pid           24 writer generation (+1 each time a writer opens the store)
/// 32  topics version (+1 when a topic is created, deleted or its settings change)
/// 64  signal: a 32-bit word, +1 after every publish of any partition (the futex word)
/// ```
/// Readers never write it. A reader waiting for records takes the signal's value, checks the
/// published ends it cares about, and sleeps on the word (FUTEX_WAIT) only while it still holds
/// that value, so a publish between the check and the sleep is never missed.
package final class LiveStoreFile: @unchecked Sendable {
    package static let magic: UInt64 = 0x0000_4556_494C_5353  // "SSLIVE\0\0"
    private static let writerPIDOffset = 16
    private static let writerGenerationOffset = 24
    private static let topicsVersionOffset = 32
    private static let signalOffset = 64

    private let mapping: LiveMapping

    private init(mapping: LiveMapping) { self.mapping = mapping }

    /// Maps the file for the writer and announces it: its pid and a new generation.
    package static func openForWriting(storeFolder: String, mode: mode_t, fileSystem: FileSystem) throws(StreamStoreError) -> LiveStoreFile {
        let path = FileNames.join(storeFolder, FileNames.live)
        let file = LiveStoreFile(mapping: try LiveMapping.openForWriting(path, magic: magic, mode: mode, fileSystem: fileSystem))
        file.mapping.store(file.writerGeneration &+ 1, at: writerGenerationOffset)
        file.mapping.store(UInt64(getpid()), at: writerPIDOffset)
        file.signal()
        return file
    }

    /// Nil when no writer has opened the store since it was created (or upgraded).
    package static func openForReading(storeFolder: String, fileSystem: FileSystem) throws(StreamStoreError) -> LiveStoreFile? {
        let path = FileNames.join(storeFolder, FileNames.live)
        return try LiveMapping.openForReading(path, magic: magic, fileSystem: fileSystem).map(LiveStoreFile.init(mapping:))
    }

    /// The pid of the last writer that opened the store (it may have exited since).
    package var writerPID: Int32 { Int32(truncatingIfNeeded: mapping.load(at: Self.writerPIDOffset)) }
    package var writerGeneration: UInt64 { mapping.load(at: Self.writerGenerationOffset) }
    package var topicsVersion: UInt64 { mapping.load(at: Self.topicsVersionOffset) }
    /// The signal word's value now: pass it to ``wait(whileSignalIs:timeoutNanoseconds:)``.
    package var signalValue: UInt32 { ss_shared_load_u32(mapping.base + Self.signalOffset) }

    /// Writer only: the writer closed cleanly; readers see pid 0.
    package func writerClosed() {
        mapping.store(0, at: Self.writerPIDOffset)
        signal()
    }

    /// Writer only: a topic was created, deleted or changed.
    package func topicsChanged() {
        mapping.store(topicsVersion &+ 1, at: Self.topicsVersionOffset)
        signal()
    }

    /// Writer only: something was published; wakes every waiting reader process. A futex wake
    /// with nobody waiting costs one system call, once per published batch.
    package func signal() {
        guard let writable = mapping.writable else { preconditionFailure("a reader cannot signal") }
        _ = ss_shared_increment_u32(writable + Self.signalOffset)
        _ = ss_futex_wake_all(writable + Self.signalOffset)
    }

    /// Sleeps while the signal word still equals `value`, at most `timeoutNanoseconds`. Returns
    /// at once when it has already moved on. Blocks the calling thread: call it from a thread of
    /// its own, never from a task of the cooperative pool.
    package func wait(whileSignalIs value: UInt32, timeoutNanoseconds: Int64) {
        _ = ss_futex_wait(mapping.base + Self.signalOffset, value, timeoutNanoseconds)
    }
}
