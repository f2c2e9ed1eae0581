import Foundation
import StreamStore
import StreamStoreTestSupport
import Testing

/// `make install` puts stream-tool and its three completion scripts under PREFIX, and
/// `make uninstall` removes them; `--version` prints the store's version.
@Suite(.timeLimit(.minutes(2))) struct InstallTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func makeInstallPutsTheToolAndItsCompletionsUnderThePrefix() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        // A stand-in for `swift` that reports the folder of the binary this test run built, so
        // the recipe installs it without a release build.
        let binary = try ToolRunner.executable()
        let swift = tool.folder.appendingPathComponent("swift")
        let script = "#!/bin/sh\ncase \"$*\" in *--show-bin-path*) echo '\(binary.deletingLastPathComponent().path)' ;; *) exit 0 ;; esac\n"
        try script.write(to: swift, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: swift.path)
        let prefix = tool.folder.appendingPathComponent("prefix").path
        let make = URL(fileURLWithPath: "/usr/bin/make")
        let install = try await tool.run(
            ["-C", Self.root.path, "install", "SWIFT=\(swift.path)", "PREFIX=\(prefix)"], addStore: false, executable: make)
        #expect(install.status == 0, "\(install.stderr)")
        let installed = ["bin/stream-tool", "share/bash-completion/completions/stream-tool", "share/zsh/site-functions/_stream-tool",
                         "share/fish/vendor_completions.d/stream-tool.fish"]
        for path in installed { #expect(FileManager.default.fileExists(atPath: "\(prefix)/\(path)"), "\(path)") }
        let bash = try String(contentsOfFile: "\(prefix)/share/bash-completion/completions/stream-tool", encoding: .utf8)
        #expect(bash.contains("complete") && bash.contains("stream-tool"))
        let version = try await tool.run(["--version"], addStore: false, executable: URL(fileURLWithPath: "\(prefix)/bin/stream-tool"))
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == Store.version)

        let uninstall = try await tool.run(
            ["-C", Self.root.path, "uninstall", "SWIFT=\(swift.path)", "PREFIX=\(prefix)"], addStore: false, executable: make)
        #expect(uninstall.status == 0)
        for path in installed { #expect(!FileManager.default.fileExists(atPath: "\(prefix)/\(path)"), "\(path)") }
    }
}
