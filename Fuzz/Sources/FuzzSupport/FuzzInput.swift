/// Takes the fields a target reads from the front of a fuzz input (flags, sizes), then hands out
/// the rest. Reads past the end give zeros, so every input means something.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var remaining: Int { bytes.count - position }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A little-endian UInt16.
    public mutating func uint16() -> UInt16 {
        UInt16(byte()) | UInt16(byte()) << 8
    }

    /// A little-endian UInt64.
    public mutating func uint64() -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
        return value
    }

    /// Up to `count` bytes.
    public mutating func take(_ count: Int) -> [UInt8] {
        let taken = max(0, min(count, remaining))
        defer { position += taken }
        return Array(bytes[position..<(position + taken)])
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        take(remaining)
    }
}
