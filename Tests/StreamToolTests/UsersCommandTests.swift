import Foundation
import Testing

/// `stream-tool users` and the security checks of `serve` that need no client: users added
/// from standard input into a 0600 file without their passwords, listed and removed, and
/// serve refusing what is unsafe before it opens the store.
@Suite(.timeLimit(.minutes(5))) struct UsersCommandTests {
    static func users(_ tool: ToolRunner, _ arguments: [String], password: String = "") async throws -> ToolRunner.Result {
        try await tool.run(["users"] + arguments, input: Data((password.isEmpty ? "" : password + "\n").utf8), addStore: false)
    }

    @Test func usersAreAddedListedAndRemovedWithoutStoringPasswords() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let file = tool.folder.appendingPathComponent("users.txt").path
        let added = try await Self.users(tool, ["add", "--file", file, "alice"], password: "s3cret-pass")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("Added alice (SCRAM-SHA-256, SCRAM-SHA-512)"))
        let mode = try #require(FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        #expect(try !String(contentsOfFile: file, encoding: .utf8).contains("s3cret-pass"))
        let again = try await Self.users(tool, ["add", "--file", file, "alice", "--mechanism", "SCRAM-SHA-512"], password: "new-pass")
        #expect(again.status == 0 && again.stdout.contains("Changed the password of alice"))
        let listed = try await Self.users(tool, ["list", "--file", file])
        #expect(listed.stdoutLines.count == 2 && listed.stdout.contains("alice") && listed.stdout.contains("SCRAM-SHA-256, SCRAM-SHA-512"))
        let removed = try await Self.users(tool, ["remove", "--file", file, "alice"])
        #expect(removed.status == 0)
        #expect(try await Self.users(tool, ["list", "--file", file]).stdout.contains("No users"))
    }

    @Test func badInputIsOneErrorLine() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let file = tool.folder.appendingPathComponent("users.txt").path
        let noPassword = try await Self.users(tool, ["add", "--file", file, "alice"])
        #expect(noPassword.status == 1 && noPassword.errorLines.first?.contains("No password") == true)
        #expect(!FileManager.default.fileExists(atPath: file), "nothing is written without a password")
        let badName = try await Self.users(tool, ["add", "--file", file, "has space"], password: "p")
        #expect(badName.status == 1 && badName.errorLines.first?.contains("cannot be a user name") == true)
        let missing = try await Self.users(tool, ["list", "--file", file])
        #expect(missing.status == 1 && missing.errorLines.first?.contains("No users file") == true)
        #expect(try await Self.users(tool, ["add", "--file", file, "bob"], password: "p").status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let loose = try await Self.users(tool, ["list", "--file", file])
        #expect(loose.status == 1 && loose.errorLines.first?.contains("chmod 600") == true)
        let unknown = try await Self.users(tool, ["remove", "--file", file, "carol"])
        #expect(unknown.status == 1)
    }

    @Test func serveRefusesANetworkAddressWithoutTLSAndSASL() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let refused = try await tool.fail(["serve", "--listen", "0.0.0.0:0"])
        #expect(refused.contains("without TLS and SASL") && refused.contains("--insecure-allow-plaintext-on-network"))
        #expect(!FileManager.default.fileExists(atPath: tool.store), "refused before the store is created")
        let file = tool.folder.appendingPathComponent("users.txt").path
        #expect(try await Self.users(tool, ["add", "--file", file, "bob"], password: "p").status == 0)
        let withoutTLS = try await tool.fail(["serve", "--listen", "0.0.0.0:0", "--users", file])
        #expect(withoutTLS.contains("without TLS:"))
        let halfTLS = try await tool.run(["serve", "--tls-cert", file], addStore: true)
        #expect(halfTLS.status != 0 && halfTLS.stderr.contains("--tls-cert and --tls-key go together"))
        let plainOnly = try await tool.run(["serve", "--users", file, "--sasl-mechanism", "PLAIN"], addStore: true)
        #expect(plainOnly.status != 0 && plainOnly.stderr.contains("only with TLS"))
    }
}
