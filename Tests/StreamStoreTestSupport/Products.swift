import Foundation

/// A product built beside the tests (a crash child, the CLI): the first executable of that
/// name in the test bundle's folder or up to four folders above it.
package func productURL(_ name: String) throws -> URL {
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = folder.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        folder = folder.deletingLastPathComponent()
    }
    throw ProductNotBuilt(name: name)
}

/// ``productURL(_:)`` found no such executable.
package struct ProductNotBuilt: Error, CustomStringConvertible {
    package var name: String
    package var description: String { "\(name) was not built next to the tests; build the package's products first (swift build)." }
}
