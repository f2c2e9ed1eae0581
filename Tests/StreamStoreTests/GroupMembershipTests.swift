import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Members of one group in two stores opened on one folder (the writer and a read-only one)
/// are members of different processes as far as the group is concerned: their member files and
/// partition leases are flocks of their own open files. GroupProcessTests runs real processes.
@Suite("Group members across processes", .timeLimit(.minutes(2)))
final class GroupMembershipTests {
    let fixture: StoreFixture
    let writer: Store
    let reader: Store

    deinit { try? reader.close() }

    init() async throws {
        fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 4, flush: .everyAppend))
        for partition in 0..<4 { try await fixture.append(topic, count: 50, batchSize: 10, partition: partition) }
        writer = try #require(fixture.store)
        reader = try Store.open(at: fixture.path, options: Store.Options(retentionCheckMilliseconds: nil, mode: .readOnly))
    }

    /// Who owns which partition, from the members' ownership events; a second owner is recorded.
    final class Owners: @unchecked Sendable {
        private let lock = NSLock()
        private var owner: [Int: String] = [:]
        private(set) var overlaps: [String] = []

        func watch(_ consumer: Consumer, as name: String) {
            consumer.observeOwnership { partition, owned in
                self.lock.withLock {
                    if owned {
                        if let other = self.owner[partition] { self.overlaps.append("partition \(partition): \(name) while \(other)") }
                        self.owner[partition] = name
                    } else if self.owner[partition] == name {
                        self.owner[partition] = nil
                    }
                }
            }
        }

        func owned(by name: String) -> [Int] { lock.withLock { owner.filter { $0.value == name }.map(\.key).sorted() } }
    }

    /// Consumes and commits every record until cancelled.
    private func run(_ consumer: Consumer) -> Task<Void, any Error> {
        Task {
            for try await record in consumer.records { try await consumer.commit(record) }
        }
    }

    /// A consumer of group "g" in the writer and one in the reader, consuming and committing.
    private func startMembersInBothStores() throws -> (Consumer, Consumer, Owners, [Task<Void, any Error>]) {
        let owners = Owners()
        let first = try writer.consumer(group: "g", topic: "events")
        owners.watch(first, as: "writer")
        let second = try reader.consumer(group: "g", topic: "events")
        owners.watch(second, as: "reader")
        return (first, second, owners, [run(first), run(second)])
    }

    private func committedEverything(_ store: Store) -> Bool {
        ((try? store.group("g").committedOffsets(topic: "events")) ?? [:]) == [0: 50, 1: 50, 2: 50, 3: 50]
    }

    @Test func membersOfTwoProcessesSplitThePartitionsAndHandOverWhenOneLeaves() async throws {
        let (_, second, owners, tasks) = try startMembersInBothStores()
        // The sorted member ids decide who gets which half; both see the same.
        try await waitUntil { owners.owned(by: "writer").count == 2 && owners.owned(by: "reader").count == 2 }
        #expect(Set(owners.owned(by: "writer") + owners.owned(by: "reader")) == [0, 1, 2, 3])
        try await waitUntil { committedEverything(writer) }
        second.close()
        try await waitUntil(seconds: 5) { owners.owned(by: "writer") == [0, 1, 2, 3] }
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.result }
        #expect(owners.overlaps.isEmpty, "\(owners.overlaps)")
        #expect(committedEverything(reader), "the reader's view of the group caught up with the commits")
    }

    @Test func aCommitForAPartitionOwnedInAnotherProcessIsRefused() async throws {
        let (first, _, owners, tasks) = try startMembersInBothStores()
        try await waitUntil { committedEverything(writer) && owners.owned(by: "reader").count == 2 }
        let theirs = try #require(owners.owned(by: "reader").first)
        let refused = await #expect(throws: StreamStoreError.self) { try await first.commit(partition: theirs, nextOffset: 3) }
        #expect(refused?.code == .partitionNotAssigned)
        #expect(try writer.group("g").committedOffsets(topic: "events")[theirs] == 50, "the refused commit did not land")
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.result }
    }

    @Test func aReadOnlyStoreCommitsAndTheWriterAndAThirdProcessSeeIt() async throws {
        try await reader.group("g").commit(topic: "events", offsets: [0: 20, 1: 50])
        #expect(try writer.group("g").committedOffsets(topic: "events") == [0: 20, 1: 50])
        let third = try Store.open(at: fixture.path, options: Store.Options(retentionCheckMilliseconds: nil, mode: .readOnly))
        #expect(try third.groupNames() == ["g"])
        let lag = try third.group("g", createIfMissing: false).lag(topic: "events")
        #expect(lag.map(\.lagRecords) == [30, 0, 50, 50])
        try await writer.group("g").commit(topic: "events", offsets: [0: 30])
        #expect(try third.group("g").lag(topic: "events").map(\.lagRecords) == [20, 0, 50, 50])
        #expect(try reader.group("g").committedOffsets(topic: "events") == [0: 30, 1: 50])
        try third.close()
    }

    @Test func resetIsRefusedWhileAnotherProcessConsumes() async throws {
        let consumer = try reader.consumer(group: "g", topic: "events")
        await expectStoreError(.groupActive) { try await writer.group("g").reset(topic: "events", to: .beginning) }
        consumer.close()
        try await writer.group("g").reset(topic: "events", to: .end)
        #expect(try reader.group("g").committedOffsets(topic: "events") == [0: 50, 1: 50, 2: 50, 3: 50])
    }

    @Test func aDeadMembersFileIsClearedAndAHeldLeaseIsWaitedFor() async throws {
        let folder = GroupMembership.folder(groupsFolder: fixture.path + "/__groups", group: "g", topic: "events")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A member that died: its file is there, but nobody holds its lock.
        #expect(FileManager.default.createFile(atPath: folder + "/1-dead.member", contents: nil))
        // A lease still held (its owner is letting go of it, say).
        let lease = try #require(try FileLock.open(folder + "/0.lease", create: true, fileSystem: PosixFileSystem.shared))
        try lease.lock(.exclusive, wait: true)
        let owners = Owners()
        let consumer = try writer.consumer(group: "g", topic: "events")
        owners.watch(consumer, as: "writer")
        let task = run(consumer)
        try await waitUntil { owners.owned(by: "writer") == [1, 2, 3] }
        #expect(!FileManager.default.fileExists(atPath: folder + "/1-dead.member"), "the dead member's file was removed")
        lease.unlock()
        // Taken at the next membership check.
        try await waitUntil(seconds: 5) { owners.owned(by: "writer") == [0, 1, 2, 3] }
        try await waitUntil { committedEverything(writer) }
        task.cancel()
        _ = await task.result
    }
}
