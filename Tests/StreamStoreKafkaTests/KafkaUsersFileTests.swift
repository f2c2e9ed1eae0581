import Foundation
import Logging
import Testing

@_spi(Fuzzing) @testable import StreamStoreKafka

/// The users file: salted credentials that never hold the password, owner-only permissions
/// enforced, lines that are wrong named in the error, and a server that notices changes.
struct KafkaUsersFileTests {
    final class Folder {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-users-\(UUID().uuidString)").path
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var usersFile: String { path + "/users.txt" }
        func mode(_ file: String) throws -> Int { try #require(FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) }
        func chmod(_ file: String, _ mode: Int) throws { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file) }
        func write(_ text: String, mode: Int = 0o600) throws {
            try text.write(toFile: usersFile, atomically: false, encoding: .utf8)
            try chmod(usersFile, mode)
        }
    }

    @Test func savedUsersLoadBackWithTheirCredentialsAndNoPassword() throws {
        let folder = try Folder()
        var users = KafkaUsersFile()
        try users.add(user: "alice", password: "correct horse battery", mechanisms: [.scramSHA256, .scramSHA512])
        try users.add(user: "bob", password: "hunter2", mechanisms: [.scramSHA512], iterations: 8192)
        try users.save(to: folder.usersFile)
        #expect(try folder.mode(folder.usersFile) == 0o600)
        let text = try String(contentsOfFile: folder.usersFile, encoding: .utf8)
        #expect(!text.contains("correct horse") && !text.contains("hunter2"))
        let loaded = try KafkaUsersFile.load(path: folder.usersFile).file
        #expect(loaded == users)
        #expect(loaded.users.map(\.name) == ["alice", "bob"])
        #expect(loaded.users[0].mechanisms == [.scramSHA256, .scramSHA512])
        #expect(loaded.credential(user: "bob", algorithm: .sha512)?.iterations == 8192)
        #expect(loaded.credential(user: "bob", algorithm: .sha256) == nil)
        #expect(loaded.plainCredential(user: "alice")?.verifies(password: "correct horse battery") == true)
        #expect(loaded.plainCredential(user: "alice")?.verifies(password: "correct horse") == false)
    }

    @Test func eachAddDrawsAFreshSalt() throws {
        var users = KafkaUsersFile()
        try users.add(user: "alice", password: "same", mechanisms: [.scramSHA256])
        let first = users.credential(user: "alice", algorithm: .sha256)
        try users.add(user: "alice", password: "same", mechanisms: [.scramSHA256])
        #expect(first != nil && first?.salt != users.credential(user: "alice", algorithm: .sha256)?.salt)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660])
    func aFileOthersMayReadIsRefused(_ mode: Int) throws {
        let folder = try Folder()
        try KafkaUsersFile().save(to: folder.usersFile)
        try folder.chmod(folder.usersFile, mode)
        let error = try #require(throws: KafkaSecurityError.self) { try KafkaUsersFile.load(path: folder.usersFile) }
        #expect(error.code == .usersFilePermissions)
        #expect(error.description.contains("chmod 600"))
    }

    @Test func aMissingFileSaysHowToCreateIt() throws {
        let folder = try Folder()
        let error = try #require(throws: KafkaSecurityError.self) { try KafkaUsersFile.load(path: folder.usersFile) }
        #expect(error.code == .usersFileMissing)
    }

    @Test(arguments: [
        ("alice SCRAM-SHA-256 4096 c2FsdA==", "expected USER MECHANISM"),
        ("alice SCRAM-SHA-1 4096 c2FsdA== a b", "unknown mechanism"),
        ("alice SCRAM-SHA-256 100 c2FsdA== a b", "iterations"),
        ("alice SCRAM-SHA-256 4096 c2FsdA== !! !!", "not 32 bytes"),
    ])
    func aBadLineIsNamedByNumber(_ line: String, _ expected: String) throws {
        let folder = try Folder()
        try folder.write("# comment\n\n\(line)\n")
        let error = try #require(throws: KafkaSecurityError.self) { try KafkaUsersFile.load(path: folder.usersFile) }
        #expect(error.code == .usersFileInvalid)
        #expect(error.message.contains("Line 3") && error.message.contains(expected), "\(error)")
    }

    @Test(arguments: ["", "has space", "#hash", "tab\tname", String(repeating: "x", count: 256)])
    func namesTheFileCannotHoldAreRefused(_ name: String) {
        var users = KafkaUsersFile()
        #expect(throws: KafkaSecurityError.self) { try users.add(user: name, password: "p", mechanisms: [.scramSHA256]) }
    }

    @Test func iterationsOutsideTheLimitsAreRefused() {
        var users = KafkaUsersFile()
        #expect(throws: KafkaSecurityError.self) { try users.add(user: "a", password: "p", mechanisms: [.scramSHA256], iterations: 1000) }
        #expect(throws: KafkaSecurityError.self) { try users.add(user: "a", password: "p", mechanisms: [.scramSHA256], iterations: 100_000) }
    }

    @Test func removingAUserDropsEveryCredential() throws {
        var users = KafkaUsersFile()
        try users.add(user: "alice", password: "p", mechanisms: [.scramSHA256, .scramSHA512])
        let removed = users.remove(user: "alice")
        let removedAgain = users.remove(user: "alice")
        #expect(removed && !removedAgain)
        #expect(users.users.isEmpty)
    }

    @Test func theServerSeesUsersAddedLaterAndFailsClosedOnABrokenFile() throws {
        let folder = try Folder()
        var users = KafkaUsersFile()
        try users.add(user: "alice", password: "p", mechanisms: [.scramSHA256])
        try users.save(to: folder.usersFile)
        let store = try KafkaUserStore(path: folder.usersFile, logger: Logger(label: "test"))
        #expect(store.current().users.map(\.name) == ["alice"])
        try users.add(user: "bob", password: "q", mechanisms: [.scramSHA256])
        try users.save(to: folder.usersFile)
        #expect(store.current().users.map(\.name) == ["alice", "bob"])
        try folder.chmod(folder.usersFile, 0o644)
        #expect(store.current().users.isEmpty, "a file others may read logs everyone out")
        try folder.chmod(folder.usersFile, 0o600)
        #expect(store.current().users.map(\.name) == ["alice", "bob"])
    }
}
