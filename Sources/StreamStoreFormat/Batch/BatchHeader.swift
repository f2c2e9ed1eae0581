import CStreamStoreShims

/// The 61-byte header of a Kafka RecordBatch v2 (docs/FORMAT.md, "Batch").
///
/// ```
///  0 baseOffset int64        27 baseTimestamp int64
///  8 batchLength int32       35 maxTimestamp int64
/// 12 partitionLeaderEpoch    43 producerId int64
/// 16 magic int8 (= 2)        51 producerEpoch int16
/// 17 crc uint32 ─┐           53 baseSequence int32
/// 21 attributes  │ CRC32C    57 recordCount int32
/// 23 lastOffset- │ covers    61 records ...
///    Delta int32 └ 21..end
/// ```
/// `batchLength` counts the bytes after itself, so a batch occupies `batchLength + 12` bytes.
package struct BatchHeader: Sendable, Equatable {
    package static let size = 61
    /// Bytes before `batchLength` ends: all a reader needs to learn a batch's full size.
    package static let lengthPrefixSize = 12
    package static let magicValue: Int8 = 2

    package enum Field {
        package static let baseOffset = 0
        package static let batchLength = 8
        static let partitionLeaderEpoch = 12
        static let magic = 16
        package static let crc = 17
        package static let attributes = 21
        package static let lastOffsetDelta = 23
        static let baseTimestamp = 27
        static let maxTimestamp = 35
        static let producerId = 43
        static let producerEpoch = 51
        static let baseSequence = 53
        static let recordCount = 57
    }

    package enum Attribute {
        package static let compressionMask: Int16 = 0x07
        package static let logAppendTime: Int16 = 0x08
        package static let transactional: Int16 = 0x10
        package static let control: Int16 = 0x20
    }

    package var baseOffset: Int64
    package var batchLength: Int32
    package var partitionLeaderEpoch: Int32
    package var magic: Int8
    package var crc: UInt32
    package var attributes: Int16
    package var lastOffsetDelta: Int32
    package var baseTimestamp: Int64
    package var maxTimestamp: Int64
    package var producerId: Int64
    package var producerEpoch: Int16
    package var baseSequence: Int32
    package var recordCount: Int32

    package var totalBytes: Int { Int(batchLength) + BatchHeader.lengthPrefixSize }
    package var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    package var nextOffset: Int64 { lastOffset + 1 }
    package var compressionCodec: Int { Int(attributes & Attribute.compressionMask) }
    var isLogAppendTime: Bool { attributes & Attribute.logAppendTime != 0 }
    package var isControl: Bool { attributes & Attribute.control != 0 }

    /// Reads the header fields at `base` (at least ``size`` readable bytes). No validation.
    package init(loadingFrom base: UnsafeRawPointer) {
        baseOffset = BigEndian.load(Int64.self, base, Field.baseOffset)
        batchLength = BigEndian.load(Int32.self, base, Field.batchLength)
        partitionLeaderEpoch = BigEndian.load(Int32.self, base, Field.partitionLeaderEpoch)
        magic = base.load(fromByteOffset: Field.magic, as: Int8.self)
        crc = BigEndian.load(UInt32.self, base, Field.crc)
        attributes = BigEndian.load(Int16.self, base, Field.attributes)
        lastOffsetDelta = BigEndian.load(Int32.self, base, Field.lastOffsetDelta)
        baseTimestamp = BigEndian.load(Int64.self, base, Field.baseTimestamp)
        maxTimestamp = BigEndian.load(Int64.self, base, Field.maxTimestamp)
        producerId = BigEndian.load(Int64.self, base, Field.producerId)
        producerEpoch = BigEndian.load(Int16.self, base, Field.producerEpoch)
        baseSequence = BigEndian.load(Int32.self, base, Field.baseSequence)
        recordCount = BigEndian.load(Int32.self, base, Field.recordCount)
    }

    init(
        baseOffset: Int64, batchLength: Int32, partitionLeaderEpoch: Int32 = 0, crc: UInt32 = 0,
        attributes: Int16, lastOffsetDelta: Int32, baseTimestamp: Int64, maxTimestamp: Int64,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1, recordCount: Int32
    ) {
        self.baseOffset = baseOffset
        self.batchLength = batchLength
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.magic = BatchHeader.magicValue
        self.crc = crc
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.recordCount = recordCount
    }

    /// Writes every field at `base` (``size`` writable bytes), the CRC as it is in `self`.
    package func store(to base: UnsafeMutableRawPointer) {
        BigEndian.store(baseOffset, base, Field.baseOffset)
        BigEndian.store(batchLength, base, Field.batchLength)
        BigEndian.store(partitionLeaderEpoch, base, Field.partitionLeaderEpoch)
        base.storeBytes(of: magic, toByteOffset: Field.magic, as: Int8.self)
        BigEndian.store(crc, base, Field.crc)
        BigEndian.store(attributes, base, Field.attributes)
        BigEndian.store(lastOffsetDelta, base, Field.lastOffsetDelta)
        BigEndian.store(baseTimestamp, base, Field.baseTimestamp)
        BigEndian.store(maxTimestamp, base, Field.maxTimestamp)
        BigEndian.store(producerId, base, Field.producerId)
        BigEndian.store(producerEpoch, base, Field.producerEpoch)
        BigEndian.store(baseSequence, base, Field.baseSequence)
        BigEndian.store(recordCount, base, Field.recordCount)
    }
}

/// What a look at the bytes at one position of a log found.
package enum BatchProbe: Equatable {
    /// A whole, checksummed batch.
    case valid(BatchHeader)
    /// Fewer bytes than the batch needs: the end of the log, or a torn write.
    case incomplete(availableBytes: Int)
    /// Bytes that are not a valid batch; the reason says which check failed.
    case corrupt(String)
}

extension BatchHeader {
    /// Checks the batch that starts at `position` of `buffer`: enough bytes for its length, a
    /// sane length, magic 2, CRC32C, consistent counts. It never reads outside `buffer`.
    /// `expectedBaseOffset`, when given, must match (offsets in a log are dense).
    package static func probe(_ buffer: UnsafeRawBufferPointer, at position: Int, expectedBaseOffset: Int64? = nil) -> BatchProbe {
        let available = buffer.count - position
        guard available >= lengthPrefixSize, let base = buffer.baseAddress else {
            return .incomplete(availableBytes: max(0, available))
        }
        let start = base + position
        let batchLength = BigEndian.load(Int32.self, start, Field.batchLength)
        let total = Int(batchLength) + lengthPrefixSize
        guard batchLength >= Int32(size - lengthPrefixSize), total <= Limits.maxBatchBytes else {
            if batchLength == 0 && BigEndian.load(Int64.self, start, 0) == 0 {
                return .corrupt("zeroed bytes where a batch should start")
            }
            return .corrupt("batch length \(batchLength) is outside 49...\(Limits.maxBatchBytes - lengthPrefixSize)")
        }
        guard available >= total else { return .incomplete(availableBytes: available) }
        let header = BatchHeader(loadingFrom: start)
        guard header.magic == magicValue else { return .corrupt("magic \(header.magic), expected 2") }
        let computed = ss_crc32c(0, start + Field.attributes, total - Field.attributes)
        guard computed == header.crc else {
            return .corrupt("CRC32C \(hex(computed)) does not match the stored \(hex(header.crc))")
        }
        guard header.recordCount >= 0, header.lastOffsetDelta >= 0,
            header.recordCount == 0 || Int64(header.lastOffsetDelta) >= Int64(header.recordCount) - 1
        else {
            return .corrupt("record count \(header.recordCount) and last offset delta \(header.lastOffsetDelta) disagree")
        }
        guard header.baseOffset >= 0 else { return .corrupt("negative base offset \(header.baseOffset)") }
        // The CRC does not cover the base offset, so damage can make it anything; one whose
        // next offset would pass Int64.max would trap the offset arithmetic of every reader.
        guard header.baseOffset < Int64.max - Int64(header.lastOffsetDelta) else {
            return .corrupt("base offset \(header.baseOffset) leaves no room for last offset delta \(header.lastOffsetDelta)")
        }
        if let expectedBaseOffset, header.baseOffset != expectedBaseOffset {
            return .corrupt("base offset \(header.baseOffset), expected \(expectedBaseOffset)")
        }
        return .valid(header)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
