import NIOCore

/// Reads a message's fields from a ByteBuffer (see ``KafkaCoder``). It never reads past the
/// buffer, and a count or length larger than what is left is an error before anything is
/// allocated for it, so a hostile frame cannot make it allocate more than the frame's size.
package struct KafkaDecoder: KafkaCoder {
    package var buffer: ByteBuffer
    package let isFlexible: Bool

    package init(buffer: ByteBuffer, isFlexible: Bool) {
        self.buffer = buffer
        self.isFlexible = isFlexible
    }

    private mutating func integer<T: FixedWidthInteger>(_ type: T.Type, field: String) throws(KafkaCodecError) -> T {
        guard let value = buffer.readInteger(as: T.self) else {
            throw .truncated(field: field, needed: MemoryLayout<T>.size - buffer.readableBytes)
        }
        return value
    }

    package mutating func int8(_ value: inout Int8) throws(KafkaCodecError) { value = try integer(Int8.self, field: "int8") }
    package mutating func int16(_ value: inout Int16) throws(KafkaCodecError) { value = try integer(Int16.self, field: "int16") }
    package mutating func int32(_ value: inout Int32) throws(KafkaCodecError) { value = try integer(Int32.self, field: "int32") }
    package mutating func int64(_ value: inout Int64) throws(KafkaCodecError) { value = try integer(Int64.self, field: "int64") }
    package mutating func bool(_ value: inout Bool) throws(KafkaCodecError) { value = try integer(UInt8.self, field: "bool") != 0 }

    package mutating func uuid(_ value: inout [UInt8]) throws(KafkaCodecError) {
        guard let bytes = buffer.readBytes(length: 16) else { throw .truncated(field: "uuid", needed: 16 - buffer.readableBytes) }
        value = bytes
    }

    package mutating func nullableString(_ value: inout String?) throws(KafkaCodecError) {
        guard let length = try readLength(classicWidth: 2, field: "string") else {
            value = nil
            return
        }
        guard let string = buffer.readString(length: length) else { throw .invalidString(field: "string") }
        value = string
    }

    package mutating func nullableBytes(_ value: inout ByteBuffer?) throws(KafkaCodecError) {
        guard let length = try readLength(classicWidth: 4, field: "bytes") else {
            value = nil
            return
        }
        value = buffer.readSlice(length: length)
    }

    package mutating func arrayCount(_ count: inout Int?, minimumElementBytes: Int) throws(KafkaCodecError) {
        guard let length = try readLength(classicWidth: 4, field: "array", elementBytes: minimumElementBytes) else {
            count = nil
            return
        }
        count = length
    }

    package mutating func taggedFields() throws(KafkaCodecError) {
        let count = try KafkaVarint.readUnsigned(from: &buffer, field: "tagged fields")
        guard Int(count) <= buffer.readableBytes else { throw .invalidLength(field: "tagged fields", length: Int64(count)) }
        for _ in 0..<count {
            _ = try KafkaVarint.readUnsigned(from: &buffer, field: "tag")
            let size = try KafkaVarint.readUnsigned(from: &buffer, field: "tagged field size")
            guard Int(size) <= buffer.readableBytes else { throw .truncated(field: "tagged field", needed: Int(size) - buffer.readableBytes) }
            buffer.moveReaderIndex(forwardBy: Int(size))
        }
    }

    /// A length or count (nil for null), checked against the bytes left: `elementBytes` is
    /// the least one element can take.
    private mutating func readLength(classicWidth: Int, field: String, elementBytes: Int = 1) throws(KafkaCodecError) -> Int? {
        let length: Int64
        if isFlexible {
            let raw = try KafkaVarint.readUnsigned(from: &buffer, field: field)
            if raw == 0 { return nil }
            length = Int64(raw) - 1
        } else if classicWidth == 2 {
            length = Int64(try integer(Int16.self, field: field))
        } else {
            length = Int64(try integer(Int32.self, field: field))
        }
        if length < 0 {
            guard length == -1 else { throw .invalidLength(field: field, length: length) }
            return nil
        }
        guard length * Int64(max(elementBytes, 1)) <= Int64(buffer.readableBytes) else {
            if elementBytes > 1 || field == "array" { throw .invalidLength(field: field, length: length) }
            throw .truncated(field: field, needed: Int(length) - buffer.readableBytes)
        }
        return Int(length)
    }
}
