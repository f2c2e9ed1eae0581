/// Zig-zag varints, as Kafka encodes record fields (docs/FORMAT.md, "Record").
///
/// A signed value `n` is zig-zagged to `(n << 1) ^ (n >> 63)` so small negative numbers stay
/// short, then written seven bits at a time, low bits first, with the high bit set on every
/// byte but the last. Kafka's varint (int32) takes at most 5 bytes, its varlong (int64) 10.
enum Varint {
    @inline(__always)
    static func zigZag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inline(__always)
    static func unZigZag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ (0 &- Int64(bitPattern: value & 1))
    }

    /// Bytes that `value` takes as a zig-zag varint.
    @inline(__always)
    static func size(_ value: Int64) -> Int {
        var raw = zigZag(value)
        var count = 1
        while raw >= 0x80 {
            raw >>= 7
            count += 1
        }
        return count
    }

    /// Writes `value` at `pointer`; returns the bytes written. The caller made room for
    /// ``size(_:)`` bytes.
    @inline(__always)
    static func write(_ value: Int64, to pointer: UnsafeMutableRawPointer) -> Int {
        var raw = zigZag(value)
        var count = 0
        while raw >= 0x80 {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: raw) | 0x80, toByteOffset: count, as: UInt8.self)
            raw >>= 7
            count += 1
        }
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: raw), toByteOffset: count, as: UInt8.self)
        return count + 1
    }
}

/// A bounds-checked cursor over untrusted bytes. Every read checks the end first and reports
/// failure as nil; nothing here can trap on bad input.
struct ByteReader {
    let base: UnsafeRawPointer
    let end: Int
    var position: Int

    init(_ buffer: UnsafeRawBufferPointer, position: Int = 0) {
        // An empty buffer may have a nil base address; any non-nil pointer serves, since end is 0.
        self.base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        self.end = buffer.count
        self.position = position
    }

    var remaining: Int { end - position }

    /// A zig-zag varint of at most `maxBytes` bytes (5 for int32 fields, 10 for int64).
    /// Most fields of a record (attributes, deltas, a null key, a header count) fit in one byte,
    /// so that case is tested first and the loop handles the rest.
    @inline(__always)
    mutating func readVarint(maxBytes: Int = 10) -> Int64? {
        if position < end {
            let first = base.load(fromByteOffset: position, as: UInt8.self)
            if first < 0x80 {
                position &+= 1
                return Varint.unZigZag(UInt64(first))
            }
        }
        return readLongVarint(maxBytes: maxBytes)
    }

    @inline(__always)
    private mutating func readLongVarint(maxBytes: Int) -> Int64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var index = 0
        // position < end < Int.max and index < maxBytes <= 10 keep the &+ and &<< exact.
        while index < maxBytes {
            guard position < end else { return nil }
            let byte = base.load(fromByteOffset: position, as: UInt8.self)
            position &+= 1
            result |= UInt64(byte & 0x7F) &<< shift
            if byte & 0x80 == 0 { return Varint.unZigZag(result) }
            shift &+= 7
            index &+= 1
        }
        return nil
    }

    @inline(__always)
    mutating func readInt8() -> Int8? {
        guard position < end else { return nil }
        defer { position += 1 }
        return base.load(fromByteOffset: position, as: Int8.self)
    }

    /// A length-prefixed byte range (`-1` is null). Returns nil when malformed, `.some(nil)`
    /// for null.
    @inline(__always)
    mutating func readBytesRange(maxBytes: Int) -> Range<Int>?? {
        guard let length = readVarint(maxBytes: 5) else { return nil }
        if length == -1 { return .some(nil) }
        guard length >= 0, length <= maxBytes, Int(length) <= remaining else { return nil }
        let start = position
        position += Int(length)
        return .some(start..<position)
    }
}

/// Big-endian field access for batch headers (docs/FORMAT.md, "Batch").
package enum BigEndian {
    @inline(__always)
    package static func load<T: FixedWidthInteger>(_ type: T.Type, _ base: UnsafeRawPointer, _ offset: Int) -> T {
        T(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inline(__always)
    package static func store<T: FixedWidthInteger>(_ value: T, _ base: UnsafeMutableRawPointer, _ offset: Int) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}
