import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// The power-loss model itself, checked on plain files: if it kept too much, the power-loss tests
/// in FaultInjectionTests would pass for an engine that never fsyncs.
@Suite(.timeLimit(.minutes(5))) final class FaultyFileSystemTests {
    private let fileSystem = FaultyFileSystem()
    private let folder: String

    init() throws {
        folder = try StoreFixture().path + "-power"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    private func write(_ text: String, to name: String, at position: Int = 0) throws -> Int32 {
        let fd = fileSystem.open(folder + "/" + name, flags: O_RDWR | O_CREAT, mode: 0o600)
        try #require(fd >= 0)
        let written = Array(text.utf8).withUnsafeBytes { fileSystem.pwrite(fd, $0, Int64(position)) }
        try #require(written == text.utf8.count)
        return fd
    }

    private func syncFolder() throws {
        let fd = fileSystem.open(folder, flags: O_RDONLY | O_DIRECTORY, mode: 0)
        try #require(fd >= 0 && fileSystem.fsync(fd) == 0)
        _ = fileSystem.close(fd)
    }

    private func content(_ name: String) -> String? {
        FileManager.default.contents(atPath: folder + "/" + name).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aPowerCutKeepsSyncedBytesAndATornPrefixOfTheRest() throws {
        var outcomes: Set<String> = []
        for seed in 0..<64 {
            let fd = try write("synced", to: "file")
            #expect(fileSystem.fdatasync(fd) == 0)
            _ = Array("+unsynced".utf8).withUnsafeBytes { fileSystem.pwrite(fd, $0, 6) }
            try syncFolder()
            _ = fileSystem.close(fd)
            var random = SplitMix64(seed: UInt64(seed))
            try fileSystem.powerLoss(random: &random)
            let after = try #require(content("file"))
            let zeros = after.drop(while: { $0 != "\0" })
            #expect(after.hasPrefix("synced"))
            #expect("synced+unsynced".hasPrefix(after.prefix(after.count - zeros.count)) && zeros.allSatisfy { $0 == "\0" }, "\(after.debugDescription)")
            outcomes.insert(after)
            _ = fileSystem.unlink(folder + "/file")
            try syncFolder()
        }
        #expect(outcomes.contains("synced") && outcomes.contains("synced+unsynced") && outcomes.count > 5, "\(outcomes)")
    }

    @Test func aPowerCutForgetsAFileWhoseFolderWasNeverSynced() throws {
        var outcomes: Set<String?> = []
        for seed in 0..<32 {
            let fd = try write("data", to: "new-\(seed)")
            #expect(fileSystem.fsync(fd) == 0)
            _ = fileSystem.close(fd)
            var random = SplitMix64(seed: UInt64(seed))
            try fileSystem.powerLoss(random: &random)
            outcomes.insert(content("new-\(seed)"))
        }
        #expect(outcomes == ["data", nil])
    }

    @Test func aPowerCutUndoesAnUnsyncedRenameWhole() throws {
        var outcomes: Set<[String?]> = []
        for seed in 0..<32 {
            let old = try write("old", to: "target")
            #expect(fileSystem.fsync(old) == 0)
            _ = fileSystem.close(old)
            try syncFolder()
            let new = try write("new", to: "target.tmp")
            #expect(fileSystem.fsync(new) == 0)
            _ = fileSystem.close(new)
            #expect(fileSystem.rename(folder + "/target.tmp", folder + "/target") == 0)
            var random = SplitMix64(seed: UInt64(seed))
            try fileSystem.powerLoss(random: &random)
            outcomes.insert([content("target"), content("target.tmp")])
            _ = fileSystem.unlink(folder + "/target.tmp")
            try syncFolder()
        }
        // Never a missing target, never a mix: the old file, or the new one, named either way.
        #expect(outcomes == [["new", nil], ["old", "new"], ["old", nil]], "\(outcomes)")
    }

    @Test func aPowerCutWhileFilesAreOpenIsRefused() throws {
        let fd = try write("data", to: "open")
        var random = SplitMix64(seed: 1)
        #expect(throws: FaultyFileSystem.StillOpen.self) { try fileSystem.powerLoss(random: &random, waitingSeconds: 0.1) }
        _ = fileSystem.close(fd)
    }
}
