import NIOCore

/// Writes a message's fields into a ByteBuffer (see ``KafkaCoder``). Never throws.
package struct KafkaEncoder: KafkaCoder {
    package var buffer: ByteBuffer
    package let isFlexible: Bool

    package init(buffer: ByteBuffer = ByteBuffer(), isFlexible: Bool) {
        self.buffer = buffer
        self.isFlexible = isFlexible
    }

    package mutating func int8(_ value: inout Int8) { buffer.writeInteger(value) }
    package mutating func int16(_ value: inout Int16) { buffer.writeInteger(value) }
    package mutating func int32(_ value: inout Int32) { buffer.writeInteger(value) }
    package mutating func int64(_ value: inout Int64) { buffer.writeInteger(value) }
    package mutating func bool(_ value: inout Bool) { buffer.writeInteger(value ? 1 : 0, as: UInt8.self) }

    package mutating func uuid(_ value: inout [UInt8]) {
        var bytes = value
        bytes += Array(repeating: 0, count: max(0, 16 - bytes.count))
        buffer.writeBytes(bytes.prefix(16))
    }

    package mutating func nullableString(_ value: inout String?) {
        guard let value else {
            writeLength(nil, classicWidth: 2)
            return
        }
        writeLength(value.utf8.count, classicWidth: 2)
        buffer.writeString(value)
    }

    package mutating func nullableBytes(_ value: inout ByteBuffer?) {
        guard var value else {
            writeLength(nil, classicWidth: 4)
            return
        }
        writeLength(value.readableBytes, classicWidth: 4)
        buffer.writeBuffer(&value)
    }

    package mutating func arrayCount(_ count: inout Int?, minimumElementBytes: Int) {
        writeLength(count, classicWidth: 4)
    }

    package mutating func taggedFields() { KafkaVarint.writeUnsigned(0, to: &buffer) }

    /// A length: flexible versions write length + 1 as an unsigned varint (0 for null), classic
    /// ones a signed integer of `classicWidth` bytes (-1 for null).
    private mutating func writeLength(_ length: Int?, classicWidth: Int) {
        if isFlexible {
            KafkaVarint.writeUnsigned(UInt64(length.map { $0 + 1 } ?? 0), to: &buffer)
        } else if classicWidth == 2 {
            buffer.writeInteger(Int16(truncatingIfNeeded: length ?? -1))
        } else {
            buffer.writeInteger(Int32(truncatingIfNeeded: length ?? -1))
        }
    }
}

/// Kafka's unsigned varints (LEB128), used by the flexible versions' lengths and tags.
package enum KafkaVarint {
    package static func writeUnsigned(_ value: UInt64, to buffer: inout ByteBuffer) {
        var rest = value
        while rest >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        buffer.writeInteger(UInt8(rest))
    }

    /// Reads an unsigned varint of at most 5 bytes (Kafka's lengths and tags are 32-bit).
    package static func readUnsigned(from buffer: inout ByteBuffer, field: String) throws(KafkaCodecError) -> UInt32 {
        var result: UInt32 = 0
        for index in 0..<5 {
            guard let byte = buffer.readInteger(as: UInt8.self) else { throw .truncated(field: field, needed: 1) }
            if index == 4 && byte > 0x0F { throw .invalidVarint(field: field) }
            result |= UInt32(byte & 0x7F) << (7 * index)
            if byte & 0x80 == 0 { return result }
        }
        throw .invalidVarint(field: field)
    }
}
