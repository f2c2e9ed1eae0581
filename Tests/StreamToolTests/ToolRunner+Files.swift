import Foundation

/// Small verbs on the files of a test's store: find a segment file, damage it the way disks and
/// crashes do. Use them only between runs of the tool (the store is closed then).
extension ToolRunner {
    /// `STORE/TOPIC/PARTITION/<base offset, 20 digits>SUFFIX`.
    func segmentPath(_ topic: String, partition: Int = 0, baseOffset: Int64 = 0, suffix: String = ".log") -> String {
        let digits = String(baseOffset)
        let name = String(repeating: "0", count: 20 - digits.count) + digits + suffix
        return "\(store)/\(topic)/\(partition)/\(name)"
    }

    /// The `.log` files of a partition, oldest first.
    func logFiles(_ topic: String, partition: Int = 0) throws -> [String] {
        let folder = "\(store)/\(topic)/\(partition)"
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".log") }.sorted().map { "\(folder)/\($0)" }
    }

    func bytes(of path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Inverts every bit of the byte at `position`.
    func flipByte(at position: Int, in path: String) throws {
        var data = try bytes(of: path)
        data[position] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Overwrites `count` bytes from `position` with `value`.
    func overwrite(_ path: String, at position: Int, count: Int, with value: UInt8) throws {
        var data = try bytes(of: path)
        data.replaceSubrange(position..<position + count, with: repeatElement(value, count: count))
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Cuts the file to its first `byteCount` bytes, as a torn write leaves it.
    func truncate(_ path: String, toByteCount byteCount: Int) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(byteCount))
        try handle.close()
    }

    /// The batch length field of the batch at `position`: the batch is that plus 12 bytes.
    func batchLength(at position: Int, in path: String) throws -> Int {
        let data = try bytes(of: path)
        return data[position + 8..<position + 12].reduce(0) { $0 << 8 | Int($1) }
    }
}
