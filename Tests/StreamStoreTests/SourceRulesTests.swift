import Foundation
import Testing

/// Rules every file under `Sources/` keeps, checked on the files themselves: no force-unwrap or
/// `try!` (input paths never trust bytes, and a crash is not an error report), and library
/// messages that speak about the library, never about a command of the tool.
@Suite struct SourceRulesTests {
    static let sourcesFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    /// Every Swift file under `Sources/`, by its path relative to that folder.
    static func sourceFiles() throws -> [(path: String, text: String)] {
        let root = sourcesFolder.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [(String, String)] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            files.append((relative, try String(contentsOfFile: root + "/" + relative, encoding: .utf8)))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    @Test func sourcesHaveNoForceUnwrapOrTryBang() throws {
        let files = try Self.sourceFiles()
        #expect(files.count > 100, "found \(files.count) files under \(Self.sourcesFolder.path)")
        var found: [String] = []
        for file in files {
            let lines = file.text.split(separator: "\n", omittingEmptySubsequences: false)
            for line in SwiftSourceScanner(file.text).forceUnwrapLines {
                found.append("\(file.path):\(line): \(lines[line - 1].trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(found.isEmpty, "force-unwraps or try! in Sources:\n\(found.joined(separator: "\n"))")
    }

    @Test func libraryMessagesNameNoToolCommand() throws {
        var found: [String] = []
        for file in try Self.sourceFiles() where file.path.hasPrefix("StreamStore") {
            for literal in SwiftSourceScanner(file.text).literals where literal.text.contains("stream-tool") || literal.text.contains("--store") {
                found.append("\(file.path):\(literal.line): \(literal.text)")
            }
        }
        #expect(found.isEmpty, "library messages naming the tool:\n\(found.joined(separator: "\n"))")
    }

    @Test func theScannerFlagsPostfixBangsOnly() {
        let flagged = """
            let a = values[index]!
            let b = try! decode()
            var c: GroupCommit!
            let d = thing as! Int
            let e = f()!.g
            """
        #expect(SwiftSourceScanner(flagged).forceUnwrapLines == [1, 2, 3, 4, 5])

        let clean = #"""
            if !done && a != b && a !== c { }
            let text = "Stop! Really!" + #"raw! "quoted"!"#
            // a comment with value! and try!
            /* a block /* nested! */ comment! */
            let message = "offset \(offsets.map { !$0.isEmpty }) of \("inner!")!"
            let long = """
                lines with bangs! and "quotes"!
                """
            #if !os(Linux)
            #endif
            """#
        #expect(SwiftSourceScanner(clean).forceUnwrapLines == [])

        let inInterpolation = #"let text = "value \(dictionary[key]!) here""#
        #expect(SwiftSourceScanner(inInterpolation).forceUnwrapLines == [1])
    }

    @Test func theScannerReadsStringLiteralsApartFromCode() {
        let source = #"""
            // "stream-tool in a comment"
            throw Failure("Run stream-tool verify \(name).")
            let raw = #"a "raw" one"#
            """#
        let texts = SwiftSourceScanner(source).literals.map(\.text)
        #expect(texts == ["Run stream-tool verify .", #"a "raw" one"#])
        #expect(SwiftSourceScanner(source).literals.map(\.line) == [2, 3])
    }
}
