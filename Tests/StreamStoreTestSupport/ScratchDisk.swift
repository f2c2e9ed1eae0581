import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A small real filesystem of its own for a fault test: an ext4 image on a loop device, or,
/// where loop mounts are impossible, a size-limited tmpfs. It fills up for real, so the store
/// meets `ENOSPC` from the kernel rather than from our model of it (`FaultyFileSystem`).
///
/// ```swift
/// let disk = try await ScratchDisk.mount(megabytes: 16)
/// defer { disk.unmount() }                         // also done when the value goes
/// try disk.fill(leavingBytes: 0)                   // a filler file takes what is left
/// ...
/// disk.freeFiller()                                // space is back
/// ```
///
/// Mounting needs root: ``unavailableReason`` says why a test should skip when it is not.
package final class ScratchDisk: @unchecked Sendable {
    /// Which filesystem the disk is.
    package enum Kind: String, Sendable {
        case ext4
        case tmpfs
    }

    /// Where the filesystem is mounted; the store goes in a folder below it.
    package let mountPoint: String
    package let kind: Kind
    /// The folder holding the mount point and the ext4 image; removed at unmount.
    private let folder: String
    private let lock = NSLock()
    private var mounted = true
    private var filler: Int32 = -1
    private var smallFillers: [String] = []

    /// Nil when this process may mount a scratch disk; otherwise why not, for a test's skip.
    package static var unavailableReason: String? {
        geteuid() == 0 ? nil : "mounting a scratch filesystem (loop-mounted ext4, or tmpfs) needs root"
    }

    private init(folder: String, mountPoint: String, kind: Kind) {
        self.folder = folder
        self.mountPoint = mountPoint
        self.kind = kind
    }

    /// Mounts a fresh filesystem of `megabytes` MiB: ext4 on a loop device (no blocks reserved
    /// for root, so root fills it like anyone), else tmpfs when the loop mount fails.
    package static func mount(megabytes: Int) async throws -> ScratchDisk {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("streamstore-scratch-disks", isDirectory: true)
        let folder = base.appendingPathComponent(UUID().uuidString).path
        let mountPoint = folder + "/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let image = folder + "/disk.img"
        var failures: [String] = []
        if let mkfs = program(["/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"]) {
            let sized = FileManager.default.createFile(atPath: image, contents: nil) && truncate(image, off_t(megabytes) << 20) == 0
            if sized, await run(mkfs, ["-q", "-F", "-m", "0", "-E", "nodiscard", image]) == 0,
                await run("/bin/mount", ["-o", "loop", image, mountPoint]) == 0
            {
                // The loop device keeps the image open; its name can go now.
                try? FileManager.default.removeItem(atPath: image)
                return ScratchDisk(folder: folder, mountPoint: mountPoint, kind: .ext4)
            }
            failures.append("ext4 on a loop device could not be made or mounted")
        } else {
            failures.append("mkfs.ext4 is missing (apt-get install e2fsprogs)")
        }
        try? FileManager.default.removeItem(atPath: image)
        if await run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", mountPoint]) == 0 {
            return ScratchDisk(folder: folder, mountPoint: mountPoint, kind: .tmpfs)
        }
        try? FileManager.default.removeItem(atPath: folder)
        throw ScratchDiskUnavailable(reason: (failures + ["mount -t tmpfs failed"]).joined(separator: "; "))
    }

    deinit { unmount() }

    /// Bytes a non-privileged writer may still use.
    package var freeBytes: Int64 {
        var info = statvfs()
        guard statvfs(mountPoint, &info) == 0 else { return -1 }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Grows a filler file until at most `leavingBytes` are free (0: until the filesystem
    /// refuses every further byte), and makes it durable.
    package func fill(leavingBytes: Int64 = 0) throws {
        let fd: Int32 = lock.withLock {
            if filler < 0 { filler = Glibc.open(mountPoint + "/filler", O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
            return filler
        }
        guard fd >= 0 else { throw ScratchDiskUnavailable(reason: "cannot create the filler file: \(String(cString: strerror(errno)))") }
        var size = Int64(lseek(fd, 0, SEEK_END))
        // Big steps first, then smaller ones: the last blocks go to whoever asks in the size
        // the filesystem has left.
        var chunk: Int64 = 1 << 20
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        while chunk >= 1 {
            // statvfs leaves out the blocks ext4 keeps for metadata, which root may still take:
            // filling to the end goes by ENOSPC alone.
            let free = freeBytes
            if leavingBytes > 0 && free <= leavingBytes { break }
            let step = leavingBytes > 0 ? min(chunk, free - leavingBytes) : chunk
            let written = zeros.withUnsafeBytes { Glibc.pwrite(fd, $0.baseAddress, Int(step), off_t(size)) }
            if written > 0 {
                size += Int64(written)
                continue
            }
            if written < 0 && errno != ENOSPC && errno != EDQUOT {
                throw ScratchDiskUnavailable(reason: "filling failed: \(String(cString: strerror(errno)))")
            }
            // ext4 allocates lazily: a flush makes the free count honest before a smaller step.
            _ = fsync(fd)
            chunk /= 4
        }
        _ = fsync(fd)
        if leavingBytes == 0 { fillLastBlocks() }
    }

    /// Takes the blocks a growing filler cannot: ext4 reserves room for a large file's extent
    /// tree with each write, so a few single blocks stay free for small new files (a
    /// checkpoint, say) until small files take them too.
    private func fillLastBlocks() {
        let block = [UInt8](repeating: 0, count: 1024)
        for index in 0..<4096 {
            let path = mountPoint + "/filler-\(index)"
            let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return }
            let written = block.withUnsafeBytes { Glibc.pwrite(fd, $0.baseAddress, $0.count, 0) }
            let synced = fsync(fd) == 0
            _ = Glibc.close(fd)
            lock.withLock { smallFillers.append(path) }
            if written < block.count || !synced { return }
        }
    }

    /// Deletes the filler file, so the space it held is free again.
    package func freeFiller() {
        lock.withLock {
            if filler >= 0 { _ = Glibc.close(filler) }
            filler = -1
        }
        _ = unlink(mountPoint + "/filler")
        for path in lock.withLock({ () -> [String] in
            defer { smallFillers = [] }
            return smallFillers
        }) {
            _ = unlink(path)
        }
        // ext4 reuses freed blocks only once the transaction that freed them commits; an fsync
        // of the folder commits it (a global sync() would wait for every other disk too).
        let folder = Glibc.open(mountPoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            _ = Glibc.close(folder)
        }
    }

    /// Unmounts the disk and removes its folder; safe to call more than once, and called when
    /// the value goes, so a failed test never leaves a mount behind.
    package func unmount() {
        let wasMounted = lock.withLock {
            defer { mounted = false }
            if filler >= 0 { _ = Glibc.close(filler) }
            filler = -1
            return mounted
        }
        guard wasMounted else { return }
        // A tiny filesystem unmounts in milliseconds: this one wait may block (a defer cannot await).
        if Self.runBlocking("/bin/umount", [mountPoint]) != 0 {
            // Something still holds a file there (a store a failing test did not close): detach
            // the mount now; the kernel finishes once the last file closes.
            _ = Self.runBlocking("/bin/umount", ["-l", mountPoint])
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    private static func program(_ candidates: [String]) -> String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a program to its end, its output discarded, awaiting its exit (a minute at most);
    /// its exit status, -1 when it could not start or had to be killed.
    private static func run(_ path: String, _ arguments: [String]) async -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exit = ProcessExit(process)
        do {
            try process.run()
        } catch {
            return -1
        }
        guard await exit.wait(seconds: 60) else { return -1 }
        return process.terminationStatus
    }

    private static func runBlocking(_ path: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// No scratch disk could be mounted, and why.
package struct ScratchDiskUnavailable: Error, CustomStringConvertible {
    package var reason: String
    package var description: String { "No scratch disk: \(reason)." }
}
