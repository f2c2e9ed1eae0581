import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// A store dropped without `close()` while the application still holds its topics.
@Suite(.timeLimit(.minutes(5))) struct DroppedStoreTests {
    /// Bug (a flaky `checkpoints.tmp` rename failure in FuzzRegressionTests): a store dropped
    /// without `close()` while the application still held one of its topics kept writing. The
    /// background fsync of a just-sealed segment finished after the drop and rewrote the
    /// partition's checkpoint under the next store opened on the folder. Dropping the store now
    /// stops its topics first, as a crash would.
    @Test func aDroppedStoreWritesNothingAfterItsTopicsOutliveIt() async throws {
        let fixture = try StoreFixture()
        let fileSystem = FaultyFileSystem()
        let topic = try fixture.open(through: fileSystem).createTopic("events", config: TopicConfig(segmentBytes: 4096, flush: .never))
        let partition = topic.partitions[0]
        let checkpointPath = FileNames.join(partition.context.folder, FileNames.checkpoints)
        let sealedSync = fileSystem.hold(.fdatasync, pathContaining: ".log")
        let large = String(repeating: "v", count: 1000)
        for _ in 0..<6 { _ = try await topic.append([Record(value: large)], partition: 0) }
        await sealedSync.waitUntilReached()
        let before = try? Data(contentsOf: URL(fileURLWithPath: checkpointPath))

        // The drop waits for the fsync under way; another thread lets it go on once the drop
        // has stopped the partition (polled: stopping it signals nothing).
        let releaser = Thread {
            let deadline = Date().addingTimeInterval(20)
            while partition.isOpen && Date() < deadline { usleep(1000) }
            sealedSync.release()
        }
        releaser.start()
        fixture.store = nil
        partition.groupCommit.drain()

        let after = try? Data(contentsOf: URL(fileURLWithPath: checkpointPath))
        #expect(after == before, "the checkpoint changed after the store was dropped")
        await expectStoreError(.storeClosed) { _ = try await topic.append([Record(value: "late")], partition: 0) }
        let reopened = try fixture.open()
        #expect(try reopened.topic("events").logEndOffset(partition: 0) == 6)
    }
}
