import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

#if canImport(Glibc)
import Glibc
#endif

/// Simulated power loss: every tracked file back to its last fsync plus a torn prefix of what
/// followed, and name changes in folders never fsynced possibly undone (see ``FaultyFileSystem``).
extension FaultyFileSystem {
    /// The power loss asked for while the engine still holds files open.
    struct StillOpen: Error, CustomStringConvertible {
        var paths: [String]
        var description: String { "power loss with files still open (\(paths.joined(separator: ", "))): drop the Store first" }
    }

    /// What a power loss changed.
    struct PowerLossReport: CustomStringConvertible {
        /// Files whose content differs from what the engine last wrote.
        var tornFiles: [String] = []
        /// Name changes (creations, renames, unlinks) undone because their folder was never fsynced.
        var undoneNameChanges = 0
        var description: String { "\(tornFiles.count) files torn, \(undoneNameChanges) name changes undone" }
    }

    /// Rewrites every tracked file and name as a power cut could have left them (see the type's
    /// documentation), then starts tracking afresh from that state, all of it durable.
    @discardableResult
    func powerLoss(random: inout SplitMix64, waitingSeconds: Double = 5) throws -> PowerLossReport {
        guard waitUntilClosed(timeoutSeconds: waitingSeconds) else { throw StillOpen(paths: openPaths) }
        return lock.withLock {
            var report = PowerLossReport()
            // Every file that has a name now or may get one back, with what it holds now.
            var files: [ObjectIdentifier: (file: TrackedFile, namedAt: String?, current: [UInt8])] = [:]
            for (path, file) in filesByPath { files[ObjectIdentifier(file)] = (file, path, Self.readFile(at: path)) }
            for changes in pendingNameChanges.values {
                for change in changes {
                    for file in change.files where files[ObjectIdentifier(file)] == nil {
                        files[ObjectIdentifier(file)] = (file, nil, file.detachedContent ?? file.durable)
                    }
                }
            }

            for folder in pendingNameChanges.keys.sorted() {
                let changes = pendingNameChanges[folder]!
                let kept = random.upTo(changes.count)
                for change in changes[kept...].reversed() { change.undo() }
                report.undoneNameChanges += changes.count - kept
            }

            for entry in files.values {
                if let old = entry.namedAt { _ = real.unlink(old) }
            }
            // In path order, so a seed replays the same cuts.
            let named = files.values.compactMap { entry in entry.file.path.map { (path: $0, entry: entry) } }
            var survivors: [String: TrackedFile] = [:]
            for (path, entry) in named.sorted(by: { $0.path < $1.path }) {
                let content = Self.afterPowerCut(durable: entry.file.durable, current: entry.current, random: &random)
                Self.writeFile(content, to: path)
                if content != entry.current || entry.namedAt != path { report.tornFiles.append(path) }
                entry.file.durable = content
                entry.file.detachedContent = nil
                survivors[path] = entry.file
            }
            filesByPath = survivors
            pendingNameChanges = [:]
            report.tornFiles.sort()
            return report
        }
    }

    /// A file's content after a power cut: see the type's documentation.
    static func afterPowerCut(durable: [UInt8], current: [UInt8], random: inout SplitMix64) -> [UInt8] {
        let common = commonPrefixCount(durable, current)
        if common == durable.count && common == current.count { return current }
        let cut = common + random.upTo(current.count - common)
        var end = max(cut, durable.count)
        if current.count < durable.count && random.oneIn(2) { end = max(cut, current.count) }
        var result = Array(current[0..<cut])
        if end > cut { result += durable[cut..<end] }
        if current.count > result.count && random.oneIn(4) {
            // The size reached the disk but the data did not.
            result += [UInt8](repeating: 0, count: random.upTo(current.count - result.count))
        }
        return result
    }

    static func writeFile(_ bytes: [UInt8], to path: String) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot rewrite \(path) after a simulated power loss: errno \(errno)")
        defer { Glibc.close(fd) }
        var done = 0
        bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let count = Glibc.pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(done))
                precondition(count > 0, "cannot rewrite \(path) after a simulated power loss: errno \(errno)")
                done += count
            }
        }
    }

    /// Length of the longest common prefix, compared a page at a time (byte loops are slow in
    /// debug builds).
    static func commonPrefixCount(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let count = min(a.count, b.count)
        return a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                var start = 0
                while start < count {
                    let length = min(4096, count - start)
                    if memcmp(a.baseAddress! + start, b.baseAddress! + start, length) != 0 {
                        var index = start
                        while a[index] == b[index] { index += 1 }
                        return index
                    }
                    start += length
                }
                return count
            }
        }
    }
}
