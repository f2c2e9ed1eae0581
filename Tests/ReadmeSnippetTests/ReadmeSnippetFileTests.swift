import Foundation
import Testing

/// The README's Swift examples are compiled: `ReadmeSnippets.swift` holds each ```swift block of
/// README.md, as written, in a function of its own (imports lifted to the top), and this target
/// builds it. This test fails when README.md and that file disagree, so an example cannot drift
/// from the API. After editing an example, regenerate the file:
///
///     README_SNIPPETS_UPDATE=1 swift test --filter ReadmeSnippetFileTests
///
/// A block preceded by `<!-- not compiled: why -->` is left out (it needs a package this one does
/// not depend on), and so is a `Package.swift` manifest.
@Suite struct ReadmeSnippetFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let generated = root.appendingPathComponent("Tests/ReadmeSnippetTests/ReadmeSnippets.swift")

    @Test func theCompiledSnippetsAreTheReadmes() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let expected = ReadmeSnippetFile.make(from: readme)
        if ProcessInfo.processInfo.environment["README_SNIPPETS_UPDATE"] == "1" {
            try expected.write(to: Self.generated, atomically: true, encoding: .utf8)
        }
        let current = try String(contentsOf: Self.generated, encoding: .utf8)
        #expect(current == expected, "README.md's Swift examples changed; regenerate ReadmeSnippets.swift (see ReadmeSnippetFileTests)")
    }

    @Test func everySwiftBlockIsCompiledOrSaysWhyNot() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = ReadmeSnippetFile.blocks(in: readme)
        #expect(blocks.count >= 15)
        #expect(blocks.filter(\.isCompiled).count >= blocks.count - 3, "most examples are compiled")
    }
}

/// Turns README.md's ```swift blocks into one Swift file.
enum ReadmeSnippetFile {
    struct Block {
        var firstLine: Int
        var lines: [String]
        var isCompiled: Bool
    }

    static func blocks(in readme: String) -> [Block] {
        let lines = readme.components(separatedBy: "\n")
        var blocks: [Block] = []
        var index = 0
        while index < lines.count {
            guard lines[index].trimmingCharacters(in: .whitespaces) == "```swift" else {
                index += 1
                continue
            }
            let before = index > 0 ? lines[index - 1] : ""
            var body: [String] = []
            index += 1
            let first = index + 1
            while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces) != "```" {
                body.append(lines[index])
                index += 1
            }
            index += 1
            let skipped = before.hasPrefix("<!-- not compiled") || body.first?.hasPrefix("// swift-tools-version") == true
            blocks.append(Block(firstLine: first, lines: body, isCompiled: !skipped))
        }
        return blocks
    }

    static func make(from readme: String) -> String {
        var imports: Set<String> = ["import StreamStore", "import Foundation"]
        var functions: [String] = []
        for (number, block) in blocks(in: readme).enumerated() where block.isCompiled {
            var body: [String] = []
            for line in block.lines {
                if line.hasPrefix("import ") {
                    imports.insert(line)
                } else {
                    body.append(line.isEmpty ? "" : "    " + line)
                }
            }
            functions.append(
                "/// README.md, line \(block.firstLine).\nfunc readmeSnippet\(number)(\(ReadmeGivenNames.parameters)) async throws {\n" + body.joined(separator: "\n") + "\n}\n")
        }
        return "// Generated from README.md by ReadmeSnippetFileTests; do not edit.\n// swiftlint:disable all\n"
            + imports.sorted().joined(separator: "\n") + "\n\n" + functions.joined(separator: "\n")
    }
}
