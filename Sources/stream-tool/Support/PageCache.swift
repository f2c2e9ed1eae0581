import Foundation

/// The operating system's page cache, for benchmarks that must read from the disk.
enum PageCache {
    /// Writes every dirty page out (`sync`) and asks Linux to drop the clean ones
    /// (`/proc/sys/vm/drop_caches` = 1: page cache only). Needs root.
    static func drop() throws {
        sync()
        let path = "/proc/sys/vm/drop_caches"
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else {
            throw ToolError("--cold-cache cannot open \(path) (\(String(cString: strerror(errno)))): it needs Linux and root.")
        }
        defer { close(fd) }
        let written = "1\n".withCString { write(fd, $0, 2) }
        guard written == 2 else {
            throw ToolError("--cold-cache could not write \(path) (\(String(cString: strerror(errno)))).")
        }
    }
}
