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
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var sawEnd = false
    /// True when the last read returned less than it asked for: no more input was waiting.
    private(set) var lastReadWasShort = false

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
        buffer = [UInt8](repeating: 0, count: chunkBytes)
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    var isTerminal: Bool { isatty(fd) != 0 }

    /// Reads more input after the unconsumed bytes. Returns false at the end of the input.
    func fill() throws(ToolError) -> Bool {
        guard !sawEnd else { return false }
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                guard let base = raw.baseAddress else { return }
                memmove(base, base + start, end - start)
            }
            end -= start
            start = 0
        }
        if end == buffer.count {
            // One line fills the whole buffer: grow it, within reason.
            guard buffer.count < Self.maxLineBytes else {
                throw ToolError("A line of \(name) is longer than \(Self.maxLineBytes / (1024 * 1024)) MiB; no record can be that large.")
            }
            buffer.append(contentsOf: repeatElement(0, count: min(buffer.count, Self.maxLineBytes - buffer.count)))
        }
        while true {
            let wanted = buffer.count - end
            let got = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + end, wanted) }
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
            return true
        }
    }

    /// Calls `body` with each whole line read so far, without its `\n` (nor a `\r` before it),
    /// until `body` returns false. At the end of the input (`fill()` returned false) the last
    /// line counts as whole even without a newline. The views are valid only during the call.
    func forEachLine(_ body: (UnsafeRawBufferPointer) -> Bool) {
        buffer.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            while start < end {
                let remaining = end - start
                let newline = memchr(base + start, 0x0A, remaining)
                let length: Int
                let consumed: Int
                if let newline {
                    length = base.distance(to: UnsafeRawPointer(newline)) - start
                    consumed = length + 1
                } else if sawEnd {
                    length = remaining
                    consumed = remaining
                } else {
                    return
                }
                var lineLength = length
                if lineLength > 0 && raw[start + lineLength - 1] == 0x0D { lineLength -= 1 }
                let line = UnsafeRawBufferPointer(start: base + start, count: lineLength)
                start += consumed
                if !body(line) { return }
            }
        }
    }
}
