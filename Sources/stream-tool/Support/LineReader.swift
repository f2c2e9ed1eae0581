#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file or stdin in large chunks and hands out its lines as views into one buffer, so
/// `produce` neither allocates nor copies per line.
final class LineReader {
    /// A longer line is refused: the largest record is 8 MiB, and base64 plus JSON framing
    /// cannot need eight times that.
    static let maxLineBytes = 64 * 1024 * 1024

    let name: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    /// Raw memory rather than an array, so growing it for a long line is one copy, not a
    /// loop over elements.
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var sawEnd = false
    /// True when the last read returned less than it asked for: no more input was waiting.
    private(set) var lastReadWasShort = false
    /// Bytes read from the input so far.
    private(set) var bytesRead: Int64 = 0
    /// The input's size when it is a regular file (so progress can show an ETA), else nil.
    let totalBytes: Int64?

    /// Reads `path`, or stdin when it is nil or `-`.
    init(path: String?, chunkBytes: Int = 1 << 20) throws(ToolError) {
        if let path, path != "-" {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw ToolError("Cannot open \(path): \(String(cString: strerror(errno))).")
            }
            var info = stat()
            if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(descriptor)
                throw ToolError("\(path) is a folder; --input takes a file.")
            }
            fd = descriptor
            ownsDescriptor = true
            name = path
        } else {
            fd = 0
            ownsDescriptor = false
            name = "standard input"
        }
        var info = stat()
        totalBytes = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int64(info.st_size) : nil
        capacity = max(chunkBytes, 4096)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        if ownsDescriptor { close(fd) }
        buffer.deallocate()
    }

    var isTerminal: Bool { isatty(fd) != 0 }

    /// True when the last read took all there was and no more input is waiting: the writer
    /// at the other end is slow (a person, `tail -f`), so the next read would block. Never true
    /// for a file while it has more to read.
    var isIdle: Bool {
        guard lastReadWasShort else { return false }
        var request = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&request, 1, 0) == 0
    }

    /// Reads more input after the unconsumed bytes. Returns false at the end of the input.
    func fill() throws(ToolError) -> Bool {
        guard !sawEnd else { return false }
        if start > 0 {
            memmove(buffer, buffer + start, end - start)
            end -= start
            start = 0
        }
        if end == capacity {
            // One line fills the whole buffer: grow it, within reason.
            guard capacity < Self.maxLineBytes else {
                throw ToolError("A line of \(name) is longer than \(Self.maxLineBytes / (1024 * 1024)) MiB; no record can be that large.")
            }
            let grownCapacity = min(capacity * 2, Self.maxLineBytes)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: grownCapacity, alignment: 16)
            grown.copyMemory(from: buffer, byteCount: end)
            buffer.deallocate()
            buffer = grown
            capacity = grownCapacity
        }
        while true {
            let wanted = capacity - end
            let got = read(fd, buffer + end, wanted)
            if got < 0 {
                if errno == EINTR { continue }
                throw ToolError("Reading \(name) failed: \(String(cString: strerror(errno))).")
            }
            lastReadWasShort = got < wanted
            if got == 0 {
                sawEnd = true
                return false
            }
            end += got
            bytesRead += Int64(got)
            return true
        }
    }

    /// Calls `body` with each whole line read so far, without its `\n` (nor a `\r` before it),
    /// until `body` returns false. At the end of the input (`fill()` returned false) the last
    /// line counts as whole even without a newline. The views are valid only during the call.
    func forEachLine(_ body: (UnsafeRawBufferPointer) -> Bool) {
        while start < end {
            let remaining = end - start
            let length: Int
            let consumed: Int
            if let newline = memchr(buffer + start, 0x0A, remaining) {
                length = (buffer + start).distance(to: newline)
                consumed = length + 1
            } else if sawEnd {
                length = remaining
                consumed = remaining
            } else {
                return
            }
            var lineLength = length
            if lineLength > 0 && buffer.load(fromByteOffset: start + lineLength - 1, as: UInt8.self) == 0x0D { lineLength -= 1 }
            let line = UnsafeRawBufferPointer(start: buffer + start, count: lineLength)
            start += consumed
            if !body(line) { return }
        }
    }
}
