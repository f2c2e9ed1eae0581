import NIOCore
import StreamStore
import StreamStoreFormat
import StreamStoreLog

/// A Fetch response frame (v4-v11, the classic encoding), written field by field so that each
/// partition's stored batches are read from the log straight into it: one copy, file to
/// response, with the batches checked where they land (``Partition/readStoredBatches(from:maxBytes:into:)``).
/// The same bytes as ``FetchResponse`` encodes (the broker tests and the fuzz target decode it).
struct FetchResponseFrame {
    private(set) var buffer: ByteBuffer
    private let version: Int16
    private(set) var firstErrorCode: Int16 = 0

    /// The length prefix (set by ``finish()``), the response header and the fields before the
    /// topics, written into `buffer` (an empty one).
    init(header: RequestHeader, topicCount: Int, buffer empty: ByteBuffer = ByteBuffer()) {
        buffer = empty
        version = header.apiVersion
        buffer.writeInteger(Int32(0))
        ResponseHeader(correlationId: header.correlationId)
            .encode(into: &buffer, headerVersion: ApiKey.fetch.responseHeaderVersion(header.apiVersion))
        if version >= 1 { buffer.writeInteger(Int32(0)) }  // throttle time
        if version >= 7 {
            buffer.writeInteger(Int16(0))  // error code
            buffer.writeInteger(Int32(0))  // session id: no fetch sessions
        }
        buffer.writeInteger(Int32(topicCount))
    }

    mutating func beginTopic(name: String, partitionCount: Int) {
        buffer.writeInteger(Int16(name.utf8.count))
        buffer.writeString(name)
        buffer.writeInteger(Int32(partitionCount))
    }

    /// Where a partition's offsets and error go once its records are read.
    struct PartitionSlots {
        fileprivate let errorCode: Int
        fileprivate let offsets: Int
        fileprivate let recordsLength: Int
    }

    /// The partition's fields with placeholders for its error and offsets, then its records'
    /// length: the records are appended next, straight into ``buffer``.
    mutating func beginPartition(index: Int32) -> PartitionSlots {
        buffer.writeInteger(index)
        let errorCode = buffer.writerIndex
        buffer.writeInteger(Int16(0))
        let offsets = buffer.writerIndex
        buffer.writeInteger(Int64(-1))  // high watermark
        buffer.writeInteger(Int64(-1))  // last stable offset (v4+)
        if version >= 5 { buffer.writeInteger(Int64(-1)) }  // log start offset
        buffer.writeInteger(Int32(-1))  // aborted transactions: null
        if version >= 11 { buffer.writeInteger(Int32(-1)) }  // preferred read replica: none
        let recordsLength = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        return PartitionSlots(errorCode: errorCode, offsets: offsets, recordsLength: recordsLength)
    }

    /// Fills in a partition's offsets and the length of the records appended since `slots`
    /// were made; returns the records' bytes.
    @discardableResult
    mutating func endPartition(_ slots: PartitionSlots, highWatermark: Int64, logStartOffset: Int64) -> Int {
        setOffsets(slots, highWatermark: highWatermark, logStartOffset: logStartOffset)
        let records = buffer.writerIndex - slots.recordsLength - 4
        buffer.setInteger(Int32(records), at: slots.recordsLength)
        return records
    }

    /// A partition answered with an error: no records (null), whatever was appended dropped.
    mutating func endPartition(_ slots: PartitionSlots, error: KafkaErrorCode, highWatermark: Int64, logStartOffset: Int64) {
        buffer.setInteger(error.rawValue, at: slots.errorCode)
        if firstErrorCode == 0 { firstErrorCode = error.rawValue }
        setOffsets(slots, highWatermark: highWatermark, logStartOffset: logStartOffset)
        buffer.moveWriterIndex(to: slots.recordsLength + 4)
        buffer.setInteger(Int32(-1), at: slots.recordsLength)
    }

    private mutating func setOffsets(_ slots: PartitionSlots, highWatermark: Int64, logStartOffset: Int64) {
        buffer.setInteger(highWatermark, at: slots.offsets)
        buffer.setInteger(highWatermark, at: slots.offsets + 8)
        if version >= 5 { buffer.setInteger(logStartOffset, at: slots.offsets + 16) }
    }

    /// The whole frame, its length prefix set.
    mutating func finish() -> ByteBuffer {
        buffer.setInteger(Int32(buffer.readableBytes - 4), at: 0)
        return buffer
    }
}

/// The frame is where stored batches are read into (one copy: file to response).
extension FetchResponseFrame: StoredBatchSink {
    var count: Int { buffer.writerIndex }

    mutating func append(capacity: Int, _ fill: (UnsafeMutableRawBufferPointer) throws(StreamStoreError) -> Int) throws(StreamStoreError) {
        var failure: StreamStoreError?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { space in
            do throws(StreamStoreError) {
                return try fill(UnsafeMutableRawBufferPointer(rebasing: space[..<capacity]))
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
    }

    func withBytes<Result>(from start: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        buffer.withUnsafeReadableBytes { raw in body(UnsafeRawBufferPointer(rebasing: raw[(start - buffer.readerIndex)...])) }
    }

    mutating func truncate(to count: Int) { buffer.moveWriterIndex(to: count) }
}
