import Foundation

/// Folders a fuzz target works in: one per process, in memory (`/dev/shm`) when the machine has
/// it, so a run is not slowed by the disk, and removed when the process exits.
///
/// A target that crashes leaves its folder behind; the next run of the same target removes the
/// folders of processes that no longer exist. `STREAMSTORE_FUZZ_TMP` picks another parent.
public enum ScratchFolder {
    nonisolated(unsafe) private static var made: [String] = []

    /// A new, empty folder for this process, named after `target`.
    public static func make(for target: String) -> String {
        let parent = parentFolder()
        let prefix = "streamstore-fuzz-\(target)-"
        sweepStale(in: parent, prefix: prefix)
        let path = "\(parent)/\(prefix)\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        guard mkdir(path, 0o700) == 0 else { fatalError("cannot create the scratch folder \(path): errno \(errno)") }
        if made.isEmpty { atexit { ScratchFolder.removeAll() } }
        made.append(path)
        return path
    }

    private static func parentFolder() -> String {
        if let chosen = ProcessInfo.processInfo.environment["STREAMSTORE_FUZZ_TMP"], !chosen.isEmpty { return chosen }
        var info = stat()
        if stat("/dev/shm", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR && access("/dev/shm", W_OK) == 0 { return "/dev/shm" }
        return NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
    }

    /// Removes the folders that runs of this target left when they crashed.
    private static func sweepStale(in parent: String, prefix: String) {
        for name in PosixFiles.list(parent) where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: "\(parent)/\(name)") }
        }
    }

    private static func removeAll() {
        for path in made { try? FileManager.default.removeItem(atPath: path) }
        made = []
    }
}
