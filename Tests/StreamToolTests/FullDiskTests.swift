import Foundation
import Testing

/// `produce` on a real filesystem that fills up: the command fails with one clear error, and
/// what it acknowledges (`--print-offsets`) is exactly what the log holds afterwards.
///
/// The filesystem is a size-limited tmpfs mounted by the test, so it runs only as root (as
/// `make test` does in CI); a simulated full disk is `FaultInjectionTests`' business.
@Suite(.timeLimit(.minutes(3)), .enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
struct FullDiskTests {
    /// Several batches are appended by one call of the producer's batch appender; when one of
    /// them failed for lack of space, the offsets of those appended before it in the same call
    /// were never printed, so a script resending what was not acknowledged wrote them twice.
    @Test func everyRecordTheLogHoldsIsAcknowledgedAndNoOtherIs() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let mountPoint = tool.folder.appendingPathComponent("small-disk").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try await mount(tmpfsOfMiB: 6, at: mountPoint)
        defer { unmount(mountPoint) }
        let store = mountPoint + "/store"

        let created = try await tool.run(["create", "orders", "--partitions", "4", "--flush", "always", "--store", store], addStore: false)
        try #require(created.status == 0, "\(created.stderr)")
        // ~12 MB of records for a 6 MiB filesystem, in lines of every partition in turn.
        let recordCount = 120_000
        var input = ""
        input.reserveCapacity(recordCount * 110)
        let padding = String(repeating: "x", count: 64)
        for index in 0..<recordCount {
            input += #"{"key":"customer-\#(index % 97)","value":"order \#(index) \#(padding)","partition":\#(index % 4)}"# + "\n"
        }
        let inputFile = tool.folder.appendingPathComponent("orders.jsonl")
        try Data(input.utf8).write(to: inputFile)

        let produced = try await tool.run(
            ["produce", "orders", "--format", "json", "--input", inputFile.path, "--print-offsets", "--store", store], addStore: false)
        #expect(produced.status != 0, "the filesystem should have filled up")
        #expect(produced.errorLines.count == 1)
        #expect(produced.errorLines.first?.contains("No space left on device") == true, "\(produced.errorLines)")

        // Each printed line belongs to the input record of its number: `P OFFSET` when it was
        // written, `P -` when it was not but a later one was.
        var acknowledged: Set<String> = []
        var inputLine: [String: Int] = [:]
        for (number, line) in produced.stdoutLines.enumerated() {
            let fields = line.split(separator: " ").map(String.init)
            try #require(fields.count == 2, "line \(number + 1): \(line)")
            #expect(fields[0] == String(number % 4), "line \(number + 1) names the partition of its input record")
            if fields[1] != "-" {
                #expect(acknowledged.insert("\(fields[0]) \(fields[1])").inserted, "offset printed twice: \(line)")
                inputLine["\(fields[0]) \(fields[1])"] = number
            }
        }
        #expect(acknowledged.count > 0, "something was written before the disk filled")

        let replay = try await tool.run(["replay", "orders", "--format", "json", "--store", store], addStore: false)
        try #require(replay.status == 0, "\(replay.stderr)")
        var stored: Set<String> = []
        for line in replay.stdoutLines {
            let object = try jsonObject(line)
            let partition = try #require(object["partition"] as? Int)
            let offset = try #require(object["offset"] as? Int)
            // The record at an acknowledged offset is the input record of that line.
            let value = try #require(object["value"] as? String)
            stored.insert("\(partition) \(offset)")
            if let number = inputLine["\(partition) \(offset)"] {
                #expect(value == "order \(number) \(padding)", "partition \(partition) offset \(offset)")
            }
        }
        let unacknowledged = stored.subtracting(acknowledged)
        let missing = acknowledged.subtracting(stored)
        #expect(unacknowledged.isEmpty, "\(unacknowledged.count) of the \(stored.count) stored records were not acknowledged, e.g. \(unacknowledged.sorted().prefix(3))")
        #expect(missing.isEmpty, "\(missing.count) acknowledged records are not in the log, e.g. \(missing.sorted().prefix(3))")
        #expect(produced.stderr.contains("Produced \(Format.grouped(stored.count)) records"), "\(produced.stderr)")

        let verify = try await tool.run(["verify", "--store", store], addStore: false)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    private func mount(tmpfsOfMiB size: Int, at path: String) async throws {
        let status = try await runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)m", "tmpfs", path])
        try #require(status == 0, "mount -t tmpfs failed with status \(status)")
    }

    private func unmount(_ path: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/umount")
        process.arguments = ["-l", path]
        try? process.run()
        process.waitUntilExit()
    }

    private func runProgram(_ path: String, _ arguments: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
    }
}

private enum Format {
    /// 12345 as "12,345", as the tool prints counts.
    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(character)
        }
        return out
    }
}
