#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lines for people on stderr: errors, notes, summaries. Unbuffered, one `write` per line, so
/// they interleave sensibly with the store's log messages.
enum StandardError {
    static func line(_ text: String) {
        write(text + "\n")
    }

    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = writeAll(fd: 2, bytes: UnsafeRawBufferPointer(bytes)) }
    }

    /// True when stderr is a terminal: only then do long commands show progress.
    static let isTerminal: Bool = isatty(2) != 0
}

enum StandardOutput {
    /// True when stdout is a terminal. Commands that stream their output there show no
    /// progress line, which would be torn by the lines scrolling under it.
    static let isTerminal: Bool = isatty(1) != 0
}

/// Writes all of `bytes` to `fd`, retrying short writes; returns 0 or the errno that stopped it.
@discardableResult
func writeAll(fd: Int32, bytes: UnsafeRawBufferPointer) -> Int32 {
    guard var cursor = bytes.baseAddress else { return 0 }
    var remaining = bytes.count
    while remaining > 0 {
        let written = write(fd, cursor, remaining)
        if written < 0 {
            if errno == EINTR { continue }
            return errno
        }
        cursor += written
        remaining -= written
    }
    return 0
}

/// A buffered writer to stdout for output that can run to millions of lines (replay,
/// `--print-offsets`): bytes collect in one buffer and go out in large writes.
///
/// The buffer is raw memory rather than an `[UInt8]`: replay appends a few dozen small pieces per
/// record, and an array's uniqueness and exclusivity checks on each of them cost more than the
/// copying.
final class BufferedOutput {
    // Only ever touched by the one thread that owns the writer; dynamic exclusivity checks on
    // these cost more than the appends themselves.
    @exclusivity(unchecked) private var bytes: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var count = 0
    private let flushThresholdBytes: Int

    init(capacityBytes: Int = 256 * 1024) {
        capacity = max(capacityBytes, 64)
        bytes = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        flushThresholdBytes = capacity - capacity / 4
    }

    deinit {
        bytes.deallocate()
    }

    /// Makes room for `extra` more bytes; the buffer grows only for pieces larger than the
    /// room left (a big value), since callers flush once it is mostly full.
    @inline(__always)
    private func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        grown.copyMemory(from: bytes, byteCount: count)
        bytes.deallocate()
        bytes = grown
        capacity = newCapacity
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        bytes.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    func append(_ piece: UnsafeRawBufferPointer) {
        guard let source = piece.baseAddress, piece.count > 0 else { return }
        reserve(piece.count)
        (bytes + count).copyMemory(from: source, byteCount: piece.count)
        count += piece.count
    }

    func append(_ piece: [UInt8]) {
        piece.withUnsafeBytes { append($0) }
    }

    func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `value` in decimal without going through a `String`.
    func appendDecimal(_ value: Int64) {
        if value < 0 {
            append(UInt8(ascii: "-"))
        }
        appendDecimal(value.magnitude)
    }

    func appendDecimal(_ value: UInt64) {
        reserve(20)
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        rest = value
        for index in stride(from: count + digits - 1, through: count, by: -1) {
            bytes.storeBytes(of: UInt8(ascii: "0") + UInt8(rest % 10), toByteOffset: index, as: UInt8.self)
            rest /= 10
        }
        count += digits
    }

    /// Appends `text` padded with spaces on the left to `width` columns.
    func appendRightAligned(_ text: String, width: Int) {
        appendSpaces(width - text.utf8.count)
        append(text)
    }

    /// Appends `value` in decimal, padded with spaces on the left to `width` columns.
    func appendRightAligned(_ value: Int64, width: Int) {
        var digits = value < 0 ? 2 : 1
        var rest = value.magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        appendSpaces(width - digits)
        appendDecimal(value)
    }

    func appendSpaces(_ spaces: Int) {
        guard spaces > 0 else { return }
        reserve(spaces)
        (bytes + count).initializeMemory(as: UInt8.self, repeating: UInt8(ascii: " "), count: spaces)
        count += spaces
    }

    /// The bytes so far as text, emptying the buffer (for building strings, not for stdout).
    func takeString() -> String {
        defer { count = 0 }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// True when the next ``flushIfFull()`` writes: a progress line on the same terminal
    /// should be cleared first.
    var isMostlyFull: Bool { count >= flushThresholdBytes }

    /// Writes out the buffer once it is mostly full; call after each record or batch.
    @inline(__always)
    func flushIfFull() throws {
        if count >= flushThresholdBytes { try flush() }
    }

    func flush() throws {
        guard count > 0 else { return }
        let failure = writeAll(fd: 1, bytes: UnsafeRawBufferPointer(start: bytes, count: count))
        count = 0
        if failure == EPIPE { throw OutputClosed() }
        if failure != 0 {
            throw ToolError("Writing to standard output failed: \(String(cString: strerror(failure))).")
        }
    }
}

/// Whoever reads stdout has stopped reading (`| head`): not a failure, just the end.
struct OutputClosed: Error {}
