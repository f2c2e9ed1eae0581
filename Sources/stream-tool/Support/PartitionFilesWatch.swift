#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StreamStore
import StreamStoreInspect

/// Notices appends to a topic's partitions made by another process, without opening the store.
///
/// A store is open in one process at a time (its lock), and a `Store` wakes its tailing
/// readers only on appends made through itself. So `replay --follow` cannot keep the store
/// open and wait: it reads in short sessions and, between them, watches the partitions'
/// segment files here. Every append grows a `.log` file (they are never preallocated), and
/// retention or a roll adds or removes one, so the names, sizes and modification times of the
/// `.log` files change whenever there may be something new to read. Stat calls only: nothing
/// is opened, so the process writing is never disturbed.
struct PartitionFilesWatch {
    /// The names, sizes and modification times of the watched `.log` files.
    struct Fingerprint: Equatable {
        fileprivate var files: [File] = []

        fileprivate struct File: Equatable {
            var path: String
            var sizeBytes: Int64
            var modifiedSeconds: Int
            var modifiedNanoseconds: Int
        }
    }

    /// `STORE/TOPIC/PARTITION`, one per watched partition.
    let folders: [String]
    /// How often ``waitForChange(from:)`` looks.
    let pollMilliseconds: Int64

    init(storePath: String, topic: String, partitions: [Int], pollMilliseconds: Int64 = 100) {
        folders = partitions.map { "\(storePath)/\(topic)/\($0)" }
        self.pollMilliseconds = pollMilliseconds
    }

    func fingerprint() -> Fingerprint {
        var fingerprint = Fingerprint()
        for folder in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for name in names.sorted() {
                let path = "\(folder)/\(name)"
                guard SegmentFilePath(path)?.kind == .log else { continue }
                var info = stat()
                guard stat(path, &info) == 0 else { continue }
                #if canImport(Darwin)
                let modified = info.st_mtimespec
                #else
                let modified = info.st_mtim
                #endif
                fingerprint.files.append(
                    Fingerprint.File(
                        path: path, sizeBytes: Int64(info.st_size),
                        modifiedSeconds: Int(modified.tv_sec), modifiedNanoseconds: Int(modified.tv_nsec)))
            }
        }
        return fingerprint
    }

    /// Returns once the fingerprint differs from `earlier`; throws `CancellationError` when the
    /// task is cancelled meanwhile.
    func waitForChange(from earlier: Fingerprint) async throws {
        while fingerprint() == earlier {
            try await Task.sleep(for: .milliseconds(pollMilliseconds))
        }
    }
}
