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
        let fileSystem = FailingFileSystem()
        var options = Store.Options()
        options.fileSystem = fileSystem
        fixture.store = try Store.open(at: fixture.storePath, options: options)
        try fixture.topic()
        // Two 6 MiB records fill one batch (16 MiB at most); the third needs a second batch.
        let big = String(repeating: "x", count: 6 << 20)
        try await fixture.database.write { db in
            for index in 0..<3 { _ = try Outbox.enqueue(topic: "orders", key: "ada", value: "\(index)" + big, in: db) }
        }
        fileSystem.fail(.write, errno: ENOSPC, pathContaining: ".log", after: 1)
        let relay = try OutboxRelay(database: fixture.database, store: fixture.store)
        await #expect(throws: StreamStoreError.self) { try await relay.publishPending() }
        #expect(try fixture.records().count == 2, "the first batch was written")
        #expect(try fixture.pendingRows() == 1, "the two rows whose records are durable are deleted; the third is kept")

        fileSystem.clearFaults()
        #expect(try await relay.publishPending() == 1)
        #expect(try fixture.pendingRows() == 0)
        #expect(try fixture.records().map { $0.valueString?.first } == ["0", "1", "2"])
    }
}
