/// Every file under a folder, held in memory, so a fuzz target can put a store back exactly as
/// it was before each input: same files, same bytes, nothing left over from the last input.
public struct FolderSnapshot: Sendable {
    public let root: String
    /// Relative path → contents.
    public var files: [String: [UInt8]]
    /// Relative paths of the folders, parents first.
    public var folders: [String]

    /// Reads every file and folder under `root`.
    public init(of root: String) {
        self.root = root
        var files: [String: [UInt8]] = [:]
        var folders: [String] = []
        func visit(_ relative: String) {
            let path = relative.isEmpty ? root : root + "/" + relative
            for name in PosixFiles.list(path).sorted() {
                let child = relative.isEmpty ? name : relative + "/" + name
                if PosixFiles.isDirectory(root + "/" + child) {
                    folders.append(child)
                    visit(child)
                } else if let bytes = PosixFiles.read(root + "/" + child) {
                    files[child] = bytes
                }
            }
        }
        visit("")
        self.files = files
        self.folders = folders
    }

    /// Makes the folder tree under `root` hold exactly these files again: files that are not in
    /// the snapshot are removed, the others rewritten. Folders are only ever created.
    public func restore() {
        for folder in [""] + folders {
            let path = folder.isEmpty ? root : root + "/" + folder
            PosixFiles.makeFolders(path)
            for name in PosixFiles.list(path) {
                let child = folder.isEmpty ? name : folder + "/" + name
                if files[child] == nil && !PosixFiles.isDirectory(root + "/" + child) { PosixFiles.remove(root + "/" + child) }
            }
        }
        for (relative, bytes) in files { PosixFiles.write(bytes, to: root + "/" + relative) }
    }
}
