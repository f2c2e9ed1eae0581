/// Big-endian fields of the on-disk formats (docs/FORMAT.md: batch headers, indexes,
/// checkpoints, the group offset log, snapshots).
///
/// Three ways in: a raw pointer for the append path, which has checked its lengths already; a
/// raw buffer, whose bounds are a precondition; and byte arrays, for the layers above the log,
/// which never touch memory directly.
package enum BigEndian {
    @inline(__always)
    package static func load<T: FixedWidthInteger>(_ type: T.Type, _ base: UnsafeRawPointer, _ offset: Int) -> T {
        T(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inline(__always)
    package static func store<T: FixedWidthInteger>(_ value: T, _ base: UnsafeMutableRawPointer, _ offset: Int) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }

    /// The field at `offset` of `buffer`; the caller has checked that it lies inside.
    @inline(__always)
    package static func load<T: FixedWidthInteger>(_ type: T.Type, _ buffer: UnsafeRawBufferPointer, _ offset: Int) -> T {
        precondition(offset >= 0 && offset <= buffer.count - MemoryLayout<T>.size, "a big-endian field read past its buffer")
        return T(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Writes `value` at `offset` of `buffer`; the caller has made room for it.
    @inline(__always)
    package static func store<T: FixedWidthInteger>(_ value: T, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int) {
        precondition(offset >= 0 && offset <= buffer.count - MemoryLayout<T>.size, "a big-endian field written past its buffer")
        buffer.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }

    /// The field at `offset` of `bytes`; the caller has checked that it lies inside.
    package static func load<T: FixedWidthInteger, Bytes: RandomAccessCollection<UInt8>>(
        _ type: T.Type, from bytes: Bytes, at offset: Int
    ) -> T where Bytes.Index == Int {
        var value: T = 0
        for index in offset..<(offset + MemoryLayout<T>.size) {
            value = value << 8 | T(truncatingIfNeeded: bytes[index])
        }
        return value
    }

    /// Appends `value`, most significant byte first.
    package static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        var remaining = MemoryLayout<T>.size
        while remaining > 0 {
            remaining -= 1
            bytes.append(UInt8(truncatingIfNeeded: value >> (remaining * 8)))
        }
    }
}
