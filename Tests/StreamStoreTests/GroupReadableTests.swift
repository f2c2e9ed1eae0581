import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreLog

/// A reader running as another user of the store's group, with a real second user: made here
/// (as root, which `make test` and CI are) with groupadd and useradd, and run with runuser.
@Suite("Group-readable stores", .serialized, .timeLimit(.minutes(2)))
struct GroupReadableTests {
    static let group = "streamstore-readers"
    static let user = "streamstore-reader"

    /// Whether this test can make and use a second user here.
    static var canRun: Bool {
        getuid() == 0 && ["/usr/sbin/useradd", "/usr/sbin/groupadd", "/usr/sbin/runuser"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    static func ensureUser() throws {
        if (try run("/usr/bin/getent", ["group", group])).status != 0 { try run("/usr/sbin/groupadd", ["--system", group]) }
        if (try run("/usr/bin/id", [user])).status != 0 {
            try run("/usr/sbin/useradd", ["--system", "--no-create-home", "--gid", group, "--shell", "/usr/sbin/nologin", user])
        }
    }

    /// A store folder of the readers' group with the setgid bit, as the docs tell an operator.
    static func storeFolder() throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-tests", isDirectory: true).path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        #expect(chmod(base, 0o755) == 0)
        let path = base + "/shared-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try run("/usr/bin/chgrp", [group, path])
        #expect(chmod(path, 0o2750) == 0)
        return path
    }

    /// Runs stream-crash-child's `tail` as the second user: it reads `count` records read-only.
    static func readAsOtherUser(_ path: String, count: Int) throws -> (status: Int32, output: String) {
        try run("/usr/sbin/runuser", ["-u", user, "--", try productURL("stream-crash-child").path, "tail", path, "events", "\(count)"])
    }

    @Test(.enabled(if: canRun, "needs root, useradd and runuser"))
    func aReaderOfTheStoresGroupReadsAGroupReadableStore() async throws {
        try Self.ensureUser()
        let path = try Self.storeFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try Store.open(at: path, options: Store.Options(permissions: .groupReadable))
        let topic = try store.createTopic("events", config: TopicConfig(flush: .never))
        _ = try await topic.append((0..<10).map { Record(value: Array("event \($0)".utf8)) }, partition: 0)
        let read = try Self.readAsOtherUser(path, count: 10)
        #expect(read.status == 0, "\(read.output)")
        #expect(read.output.split(separator: "\n").filter { $0.hasPrefix("seen 0 ") }.count == 10, "\(read.output)")
        var info = stat()
        #expect(stat(path + "/events/0", &info) == 0 && info.st_mode & 0o777 == 0o750)
        #expect(stat(path + "/events/0/00000000000000000000.log", &info) == 0 && info.st_mode & 0o777 == 0o640)
        try store.close()
    }

    @Test(.enabled(if: canRun, "needs root, useradd and runuser"))
    func anOwnerOnlyStoreShutsOtherUsersOut() async throws {
        try Self.ensureUser()
        let path = try Self.storeFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try Store.open(at: path)
        let topic = try store.createTopic("events", config: TopicConfig(flush: .never))
        _ = try await topic.append([Record(value: Array("secret".utf8))], partition: 0)
        let read = try Self.readAsOtherUser(path, count: 1)
        #expect(read.status != 0)
        #expect(read.output.contains("Permission denied"), "\(read.output)")
        try store.close()
    }
}
