/// Files of the repository the seed writers read (the Kafka test vectors), found from this
/// source file's place in it: seeds are only ever written from a checkout.
public enum RepositoryFiles {
    public static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)  // Fuzz/Sources/FuzzSupport/RepositoryFiles.swift
        return parts.joined(separator: "/")
    }()

    /// The bytes of `relativePath` under the repository root.
    public static func read(_ relativePath: String) -> [UInt8]? {
        PosixFiles.read(root + "/" + relativePath)
    }
}
