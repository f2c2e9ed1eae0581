import Foundation
import GRDB
import StreamStoreOutbox
import StreamStoreTestSupport
import Testing

@testable import StreamStore

/// The relay deletes a row exactly when its record is durable, also when a partition's rows
/// needed several batches and a later one failed.
@Suite(.timeLimit(.minutes(3))) struct OutboxAcknowledgementTests {
    /// Rows of large records go out in several batches per partition; when the second failed,
    /// the rows of the first (durable in the topic) were kept as unpublished, to be sent again.
    @Test func rowsOfABatchThatWentBeforeAFailedOneAreDeleted() async throws {
        let fixture = try OutboxFixture()
        try fixture.store.close()
        let fileSystem = FailingLogWrites()
        var options = Store.Options()
        options.fileSystem = fileSystem
        fixture.store = try Store.open(at: fixture.storePath, options: options)
        try fixture.topic()
        // Two 6 MiB records fill one batch (16 MiB at most); the third needs a second batch.
        let big = String(repeating: "x", count: 6 << 20)
        try await fixture.database.write { db in
            for index in 0..<3 { _ = try Outbox.enqueue(topic: "orders", key: "ada", value: "\(index)" + big, in: db) }
        }
        fileSystem.failLogWrites(after: 1)
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        await #expect(throws: StreamStoreError.self) { try await relay.publishPending() }
        #expect(try fixture.records().count == 2, "the first batch was written")
        #expect(try fixture.pendingRows() == 1, "the two rows whose records are durable are deleted; the third is kept")

        fileSystem.failLogWrites(after: nil)
        #expect(try await relay.publishPending() == 1)
        #expect(try fixture.pendingRows() == 0)
        #expect(try fixture.records().map { $0.valueString?.first } == ["0", "1", "2"])
    }
}

/// Passes every call through, except writes to `.log` files once armed: after letting the
/// given number through, they fail with ENOSPC.
final class FailingLogWrites: ForwardingFileSystem, @unchecked Sendable {
    private let lock = NSLock()
    private var logDescriptors: Set<Int32> = []
    private var writesLeft: Int?

    /// Lets `count` more log writes through, then fails the rest; nil lets every one through.
    func failLogWrites(after count: Int?) { lock.withLock { writesLeft = count } }

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        let fd = PosixFileSystem.shared.open(path, flags: flags, mode: mode)
        if fd >= 0 && path.hasSuffix(".log") { lock.withLock { _ = logDescriptors.insert(fd) } }
        return fd
    }

    func close(_ fd: Int32) -> Int32 {
        lock.withLock { _ = logDescriptors.remove(fd) }
        return PosixFileSystem.shared.close(fd)
    }

    func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        guard mayWrite(fd) else {
            errno = ENOSPC
            return -1
        }
        return PosixFileSystem.shared.pwrite(fd, buffer, position)
    }

    func pwritev(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, _ position: Int64) -> Int {
        guard mayWrite(fd) else {
            errno = ENOSPC
            return -1
        }
        return PosixFileSystem.shared.pwritev(fd, first, second, position)
    }

    private func mayWrite(_ fd: Int32) -> Bool {
        lock.withLock {
            guard logDescriptors.contains(fd), let left = writesLeft else { return true }
            guard left > 0 else { return false }
            writesLeft = left - 1
            return true
        }
    }
}
