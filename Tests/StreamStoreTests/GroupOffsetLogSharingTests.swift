import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Several processes share one group's offset log. Two `GroupOffsetLog`s on one file behave as
/// two processes do (each its own descriptors and flock open file descriptions), so they stand
/// in for them here; GroupProcessTests runs real processes.
@Suite("Group offset log shared between processes", .timeLimit(.minutes(2)))
struct GroupOffsetLogSharingTests {
    /// Owns the temporary folder (removed when the test ends).
    let fixture: StoreFixture
    let folder: String
    let path: String
    let lockPath: String

    init() throws {
        fixture = try StoreFixture()
        folder = fixture.path + "/__groups"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        path = folder + "/g.offsets"
        lockPath = folder + "/g.lock"
    }

    private func openLog() throws -> GroupOffsetLog {
        try GroupOffsetLog(path: path, lockPath: lockPath, folder: folder, fileSystem: PosixFileSystem.shared)
    }

    private func key(_ partition: Int) -> GroupOffsetLog.Key { GroupOffsetLog.Key(topic: "events", partition: partition) }

    private func offsets(_ log: GroupOffsetLog) throws -> [Int: Int64] {
        var result: [Int: Int64] = [:]
        for (key, value) in try log.read() { result[key.partition] = value.offset }
        return result
    }

    private func fileSize() throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1 }

    @Test func eachLogSeesTheOthersCommitsAtItsNextRead() throws {
        let first = try openLog()
        let second = try openLog()
        #expect(try offsets(second).isEmpty)
        try first.commit([(key(0), 5)], nowMilliseconds: 1, sync: true)
        #expect(try offsets(second) == [0: 5])
        try second.commit([(key(1), 7)], nowMilliseconds: 2, sync: true)
        try first.commit([(key(0), 6)], nowMilliseconds: 3, sync: false)
        // Each commit went after the other's frames: nothing was written over.
        #expect(try offsets(first) == [0: 6, 1: 7])
        #expect(try offsets(second) == [0: 6, 1: 7])
        #expect(try offsets(openLog()) == [0: 6, 1: 7])
    }

    @Test func aCompactionByAnotherLogIsFollowedThroughTheNewFile() throws {
        let first = try openLog()
        let second = try openLog()
        for round in 0..<50 { try first.commit([(key(round % 3), Int64(round))], nowMilliseconds: 1, sync: false) }
        #expect(try offsets(second) == [0: 48, 1: 49, 2: 47])
        let before = try #require(FileIdentity(path: path))
        try first.compact(nowMilliseconds: 2)
        #expect(FileIdentity(path: path) != before, "compaction renames a new file over the log")
        try first.commit([(key(0), 60)], nowMilliseconds: 3, sync: false)
        // The second still has the old file open: it must notice the new one, not read on in the old.
        #expect(try offsets(second) == [0: 60, 1: 49, 2: 47])
        try second.commit([(key(1), 70)], nowMilliseconds: 4, sync: false)
        #expect(try offsets(first) == [0: 60, 1: 70, 2: 47])
        #expect(try offsets(openLog()) == [0: 60, 1: 70, 2: 47])
    }

    @Test func aTornTailIsSkippedByReadsAndCutOnlyByTheNextCommit() throws {
        let first = try openLog()
        try first.commit([(key(0), 4)], nowMilliseconds: 1, sync: true)
        let whole = try fileSize()
        // What a process killed in the middle of a commit leaves: part of a frame.
        let frame = GroupOffsetLog.frame(kind: 1, entries: [(key(0), 9)], nowMilliseconds: 2)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(frame.prefix(frame.count - 4)))
        try handle.close()
        let second = try openLog()
        #expect(try offsets(second) == [0: 4])
        #expect(try fileSize() == whole + frame.count - 4, "a read (shared lock) never cuts: the bytes could be a frame being written")
        try second.commit([(key(0), 7)], nowMilliseconds: 3, sync: true)
        #expect(try fileSize() == whole + frame.count, "the commit cut the torn frame and wrote its own in its place")
        #expect(try offsets(first) == [0: 7])
    }

    @Test func aFrameBeingWrittenUnderTheLockIsNeitherReadNorCut() async throws {
        let log = try openLog()
        try log.commit([(key(0), 1)], nowMilliseconds: 1, sync: true)
        // This test is the other process: it holds the group's lock and has written half its frame.
        let other = try #require(try FileLock.open(lockPath, create: false, fileSystem: PosixFileSystem.shared))
        try other.lock(.exclusive, wait: true)
        let frame = GroupOffsetLog.frame(kind: 1, entries: [(key(0), 2)], nowMilliseconds: 2)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let end = handle.seekToEndOfFile()
        handle.write(Data(frame.prefix(10)))
        // Used by the thread only until it ends; the test reads the log after awaiting it.
        nonisolated(unsafe) let committer = log
        let entry = key(1)
        // A thread of its own: the commit blocks in flock, and a task blocked there would hold
        // one of the few threads every test shares (and could wait long to get one).
        let committed = TestEvent()
        let failure = Locked<StreamStoreError?>(nil)
        Thread {
            do throws(StreamStoreError) {
                try committer.commit([(entry, 5)], nowMilliseconds: 3, sync: true)
            } catch {
                failure.withLock { $0 = error }
            }
            committed.signal()
        }.start()
        // The commit waits for the lock; once /proc/locks shows it waiting, finish the frame.
        let inode = try #require(FileIdentity(path: lockPath)).inode
        try await waitUntil(seconds: 120) { Self.someoneWaitsForLock(inode: inode) }
        handle.seek(toFileOffset: end + 10)
        handle.write(Data(frame.dropFirst(10)))
        try handle.close()
        other.unlock()
        await committed.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        #expect(try offsets(log) == [0: 2, 1: 5], "the other process's frame stands, and the commit came after it")
        #expect(try offsets(openLog()) == [0: 2, 1: 5])
    }

    @Test func flocksOfTwoOpenFilesConflictWithinOneProcess() throws {
        let fileSystem = PosixFileSystem.shared
        let first = try #require(try FileLock.open(lockPath, create: true, fileSystem: fileSystem))
        let second = try #require(try FileLock.open(lockPath, create: false, fileSystem: fileSystem))
        let third = try #require(try FileLock.open(lockPath, create: false, fileSystem: fileSystem))
        #expect(try first.lock(.exclusive, wait: false))
        #expect(try !second.lock(.shared, wait: false))
        first.unlock()
        #expect(try second.lock(.shared, wait: false))
        #expect(try third.lock(.shared, wait: false), "readers share")
        #expect(try !first.lock(.exclusive, wait: false), "a writer waits for the readers")
        second.unlock()
        third.unlock()
        #expect(try first.lock(.exclusive, wait: false))
    }

    @Test func withoutALockFileReadsStillWorkAndCommitsFail() throws {
        let log = try openLog()
        try log.commit([(key(0), 3)], nowMilliseconds: 1, sync: true)
        // A lock file that neither exists nor may be made (as in a store folder this process may
        // only read; here its folder is missing): reads go without the lock, commits fail.
        let unlocked = try GroupOffsetLog(path: path, lockPath: folder + "/missing/g.lock", folder: folder, fileSystem: PosixFileSystem.shared)
        #expect(try offsets(unlocked) == [0: 3])
        try log.commit([(key(0), 4)], nowMilliseconds: 2, sync: true)
        #expect(try offsets(unlocked) == [0: 4])
        expectStoreError(.io(errno: ENOENT)) { try unlocked.commit([(key(0), 5)], nowMilliseconds: 3, sync: true) }
        #expect(try offsets(log) == [0: 4])
    }

    /// True when /proc/locks lists a process waiting for a flock on the file with `inode`.
    static func someoneWaitsForLock(inode: UInt64) -> Bool {
        guard let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return false }
        return locks.split(separator: "\n").contains { $0.contains("-> FLOCK") && $0.contains(":\(inode) ") }
    }
}
