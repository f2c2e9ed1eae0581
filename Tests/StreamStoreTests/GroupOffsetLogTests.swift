import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// A consumer group's committed offsets on disk, through the offset log's own API: the frame
/// layout, frames replayed on open, a damaged frame and all after it cut by the next commit,
/// compaction into a snapshot past 1 MiB. (GroupOffsetLogSharingTests: several logs on one file.)
@Suite struct GroupOffsetLogTests {
    typealias Key = GroupOffsetLog.Key
    typealias Committed = GroupOffsetLog.Committed

    /// A fresh folder for one offset log; the fixture removes it. `cutBytes` adds up what
    /// commits cut off the tail.
    private final class Folder {
        let fixture: StoreFixture
        var path: String { fixture.path }
        var file: String { fixture.path + "/g.offsets" }
        private(set) var cutBytes: Int64 = 0

        init() throws {
            fixture = try StoreFixture()
            try FileManager.default.createDirectory(atPath: fixture.path, withIntermediateDirectories: false)
        }

        func open(_ fileSystem: any FileSystem = PosixFileSystem.shared) throws(StreamStoreError) -> GroupOffsetLog {
            try GroupOffsetLog(path: file, lockPath: fixture.path + "/g.lock", folder: path, fileSystem: fileSystem) { [weak self] in self?.cutBytes += $0 }
        }

        func bytes() throws -> [UInt8] { try [UInt8](Data(contentsOf: URL(fileURLWithPath: file))) }
        func write(_ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: file)) }
    }

    private static let header: [UInt8] = Array("SSGO".utf8) + [0, 1, 0, 0]

    @Test func theFirstCommitWritesTheHeaderAndOneFrameInTheDocumentedLayout() throws {
        let folder = try Folder()
        let log = try folder.open()
        #expect(log.state.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.file), "no file before the first commit")

        try log.commit([(Key(topic: "orders", partition: 3), 0x0102)], nowMilliseconds: 0x0A0B, sync: false)
        let payload: [UInt8] = [1] + [0, 0, 0, 0, 0, 0, 0x0A, 0x0B] + [0, 1] + [0, 6] + Array("orders".utf8) + [0, 0, 0, 3] + [0, 0, 0, 0, 0, 0, 1, 2]
        let crc = payload.withUnsafeBytes { CRC32C.checksum($0) }
        let frame = [0, 0, 0, UInt8(payload.count)] + withUnsafeBytes(of: crc.bigEndian, Array.init) + payload
        #expect(try folder.bytes() == Self.header + frame)
    }

    @Test func commitsAreReplayedOnReopenTheLatestOfEachPartitionWinning() throws {
        let folder = try Folder()
        let log = try folder.open()
        try log.commit([(Key(topic: "orders", partition: 0), 5), (Key(topic: "orders", partition: 1), 7)], nowMilliseconds: 1000, sync: false)
        try log.commit([(Key(topic: "orders", partition: 0), 9), (Key(topic: "audit", partition: 0), 2)], nowMilliseconds: 2000, sync: false)
        let expected: [Key: Committed] = [
            Key(topic: "orders", partition: 0): Committed(offset: 9, committedMilliseconds: 2000),
            Key(topic: "orders", partition: 1): Committed(offset: 7, committedMilliseconds: 1000),
            Key(topic: "audit", partition: 0): Committed(offset: 2, committedMilliseconds: 2000),
        ]
        #expect(log.state == expected)
        #expect(try folder.open().state == expected)
    }

    /// Frames are applied in order up to the first that fails: a damaged frame in the middle
    /// hides every frame after it, and the next commit cuts them all and takes their place.
    @Test func aFrameThatFailsItsChecksumIsCutWithEveryFrameAfterItByTheNextCommit() throws {
        let folder = try Folder()
        let log = try folder.open()
        let key = Key(topic: "orders", partition: 0)
        var ends: [Int] = []
        for offset in [4, 9, 12] as [Int64] {
            try log.commit([(key, offset)], nowMilliseconds: 1000 + offset, sync: false)
            ends.append(try folder.bytes().count)
        }
        var bytes = try folder.bytes()
        bytes[ends[1] - 2] ^= 0x40
        try folder.write(bytes)

        let reopened = try folder.open()
        #expect(reopened.state == [key: Committed(offset: 4, committedMilliseconds: 1004)])
        #expect(folder.cutBytes == 0, "opening and reading never cut")
        try reopened.commit([(key, 7)], nowMilliseconds: 2000, sync: false)
        #expect(folder.cutBytes == Int64(ends[2] - ends[0]))
        #expect(try folder.bytes().count == ends[1])
        #expect(try folder.open().state == [key: Committed(offset: 7, committedMilliseconds: 2000)])
    }

    @Test func aFileThatIsNotAnOffsetLogOrOfAnotherVersionIsRefused() throws {
        let folder = try Folder()
        func openingFails() -> StreamStoreError.Code? {
            do {
                _ = try folder.open()
                return nil
            } catch {
                return error.code
            }
        }
        try folder.write(Array("SSCP".utf8) + [0, 1, 0, 0])
        #expect(openingFails() == .corruptGroupOffsets)
        try folder.write(Array("SSGO".utf8) + [0, 2, 0, 0])
        #expect(openingFails() == .unsupportedFormatVersion)
    }

    /// 100 partitions committed together make frames of 1519 bytes; the commit that takes the
    /// file past 1 MiB (the 691st) compacts it into one snapshot frame, and commits after it go
    /// to the compacted file.
    @Test func theLogIsCompactedIntoOneSnapshotOncePastOneMebibyte() throws {
        let folder = try Folder()
        let log = try folder.open()
        let keys = (0..<100).map { Key(topic: "t", partition: $0) }
        for round in 1...690 {
            try log.commit(keys.map { ($0, Int64(round)) }, nowMilliseconds: Int64(round), sync: false)
        }
        #expect(try folder.bytes().count == 8 + 690 * 1519, "not compacted below 1 MiB")
        try log.commit(keys.map { ($0, 691) }, nowMilliseconds: 691, sync: false)
        let snapshot = GroupOffsetLog.frame(kind: 2, entries: keys.map { ($0, 691) }, nowMilliseconds: 691)
        #expect(try folder.bytes() == Self.header + snapshot)

        try log.commit([(keys[7], 700)], nowMilliseconds: 700, sync: false)
        let reopened = try folder.open()
        #expect(reopened.state.count == 100)
        #expect(reopened.state[keys[0]] == Committed(offset: 691, committedMilliseconds: 691))
        #expect(reopened.state[keys[7]] == Committed(offset: 700, committedMilliseconds: 700))
        #expect(folder.cutBytes == 0)
    }

    /// A frame holds at most 65,535 entries: a larger snapshot takes several frames, of which
    /// only the first replaces what came before.
    @Test func aSnapshotOfMoreKeysThanOneFrameHoldsReplaysWhole() throws {
        let folder = try Folder()
        let log = try folder.open()
        let keys = (0..<70_000).map { Key(topic: "t", partition: $0) }
        try log.commit(keys[..<35_000].map { ($0, Int64($0.partition)) }, nowMilliseconds: 1, sync: false)
        try log.commit(keys[35_000...].map { ($0, Int64($0.partition)) }, nowMilliseconds: 2, sync: false)
        try log.compact(nowMilliseconds: 3)
        let first = GroupOffsetLog.frame(kind: 2, entries: keys[..<65_535].map { ($0, Int64($0.partition)) }, nowMilliseconds: 3)
        let second = GroupOffsetLog.frame(kind: 1, entries: keys[65_535...].map { ($0, Int64($0.partition)) }, nowMilliseconds: 3)
        #expect(try folder.bytes().count == 8 + first.count + second.count)

        let reopened = try folder.open()
        #expect(reopened.state.count == 70_000)
        #expect(reopened.state[keys[0]] == Committed(offset: 0, committedMilliseconds: 3))
        #expect(reopened.state[keys[65_535]] == Committed(offset: 65_535, committedMilliseconds: 3))
        #expect(reopened.state[keys[69_999]] == Committed(offset: 69_999, committedMilliseconds: 3))
    }

    @Test func onlyADurableCommitIsFsynced() throws {
        let folder = try Folder()
        let fileSystem = CountingFileSystem()
        let log = try folder.open(fileSystem)
        fileSystem.resetCounts()
        try log.commit([(Key(topic: "t", partition: 0), 1)], nowMilliseconds: 1, sync: false)
        #expect(fileSystem.dataSyncCount == 0)
        try log.commit([(Key(topic: "t", partition: 0), 2)], nowMilliseconds: 2, sync: true)
        #expect(fileSystem.dataSyncCount == 1)
        try log.sync()
        #expect(fileSystem.dataSyncCount == 2)
    }
}
