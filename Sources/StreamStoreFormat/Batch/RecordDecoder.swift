#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one record's fields lie inside a buffer holding its batch (positions are indexes
/// into that buffer). Produced by ``RecordDecoder``; nothing is copied.
package struct RecordLayout {
    package var offset: Int64
    package var timestamp: Int64
    package var key: Range<Int>?
    package var value: Range<Int>?
    var headers: Range<Int>
    package var headerCount: Int
}

/// Walks the records of one uncompressed, checksummed batch (docs/FORMAT.md, "Record").
///
/// The CRC only proves the bytes are what a writer wrote, not that the writer was correct, so
/// every varint and length is still bounds-checked; a malformed record is a `.corruptBatch`
/// error, never a trap or a read outside the batch.
package struct RecordDecoder {
    /// The smallest encoded record: a length and six fields of one byte each (docs/FORMAT.md,
    /// "Record"), so a batch's bytes bound how many records it can hold.
    static let minimumRecordBytes = 7

    package let buffer: UnsafeRawBufferPointer
    let header: BatchHeader
    /// Where the records lie in `buffer`: right after the 61-byte header for an uncompressed
    /// batch, or the whole of a decompression buffer.
    let recordsStart: Int
    let batchEnd: Int

    package init(buffer: UnsafeRawBufferPointer, records: Range<Int>, header: BatchHeader) {
        self.buffer = buffer
        self.header = header
        self.recordsStart = records.lowerBound
        self.batchEnd = records.upperBound
    }

    /// Calls `body` with each record in order. Stops early when `body` returns false.
    @inline(__always)
    package func forEach(_ body: (RecordLayout) throws(StreamStoreError) -> Bool) throws(StreamStoreError) {
        var layouts = makeIterator()
        while let layout = try layouts.next() {
            if try !body(layout) { return }
        }
    }

    func makeIterator() -> Iterator { Iterator(decoder: self) }

    /// The records one at a time; after the last, checks that nothing follows it.
    struct Iterator {
        let decoder: RecordDecoder
        var position: Int
        var decoded: Int32 = 0

        init(decoder: RecordDecoder) {
            self.decoder = decoder
            position = decoder.recordsStart
        }

        @inline(__always)
        mutating func next() throws(StreamStoreError) -> RecordLayout? {
            guard decoded < decoder.header.recordCount else {
                try decoder.requireEnd(at: position)
                return nil
            }
            let (layout, end) = try decoder.record(at: position, index: decoded)
            position = end
            decoded += 1
            return layout
        }
    }

    /// The record that starts at `position`, the `index`-th of the batch (counted from 0): where
    /// its fields lie, and where the next record starts. Every length is checked against the
    /// batch's end.
    @inline(__always)
    package func record(at position: Int, index: Int32) throws(StreamStoreError) -> (layout: RecordLayout, end: Int) {
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: buffer[0..<batchEnd]), position: position)
        guard let length = reader.readVarint(maxBytes: 5), length >= 0, Int(length) <= reader.remaining else {
            throw corrupt("record \(index) has a bad length")
        }
        let recordEnd = reader.position + Int(length)
        var fields = ByteReader(UnsafeRawBufferPointer(rebasing: buffer[0..<recordEnd]), position: reader.position)
        guard fields.readInt8() != nil,
            let timestampDelta = fields.readVarint(maxBytes: 10),
            let offsetDelta = fields.readVarint(maxBytes: 5),
            offsetDelta >= 0, offsetDelta <= Int64(header.lastOffsetDelta),
            let key = fields.readBytesRange(maxBytes: Limits.maxRecordBytes),
            let value = fields.readBytesRange(maxBytes: Limits.maxRecordBytes),
            let headerCount = fields.readVarint(maxBytes: 5),
            headerCount >= 0, headerCount <= Int64(Limits.maxHeadersPerRecord)
        else {
            throw corrupt("record \(index) has malformed fields")
        }
        let headersStart = fields.position
        for _ in 0..<headerCount {
            guard let name = fields.readBytesRange(maxBytes: Limits.maxHeaderKeyBytes), name != nil,
                fields.readBytesRange(maxBytes: Limits.maxRecordBytes) != nil
            else {
                throw corrupt("record \(index) has a malformed header")
            }
        }
        guard fields.position == recordEnd else {
            throw corrupt("record \(index) is \(recordEnd - fields.position) bytes longer than its fields")
        }
        let layout = RecordLayout(
            offset: header.baseOffset + offsetDelta,
            timestamp: header.isLogAppendTime ? header.maxTimestamp : header.baseTimestamp &+ timestampDelta,
            key: key, value: value, headers: headersStart..<recordEnd, headerCount: Int(headerCount))
        return (layout, recordEnd)
    }

    /// Throws unless `position`, where the batch's last record ended, is the batch's end.
    package func requireEnd(at position: Int) throws(StreamStoreError) {
        guard position == batchEnd else {
            throw corrupt("\(batchEnd - position) bytes follow the last of \(header.recordCount) records")
        }
    }

    /// Decodes the headers whose bytes `layout.headers` holds (already bounds-checked).
    package func headers(of layout: RecordLayout) -> [RecordHeader] {
        Self.headers(in: buffer, at: layout.headers, count: layout.headerCount)
    }

    /// The value of the first header whose key bytes equal `key` (bounds already checked).
    package func headerValue(of layout: RecordLayout, forKey key: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer?? {
        Self.headerValue(in: buffer, at: layout.headers, count: layout.headerCount, forKey: key)
    }

    /// Decodes `count` headers encoded at `range` of `buffer` (a record's headers, checked when
    /// the record was decoded; a malformed one ends the list).
    static func headers(in buffer: UnsafeRawBufferPointer, at range: Range<Int>, count: Int) -> [RecordHeader] {
        guard count > 0 else { return [] }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: buffer[0..<range.upperBound]), position: range.lowerBound)
        var result: [RecordHeader] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            guard case .some(.some(let name)) = reader.readBytesRange(maxBytes: Limits.maxHeaderKeyBytes),
                case .some(let value) = reader.readBytesRange(maxBytes: Limits.maxRecordBytes)
            else { break }
            let key = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[name]), as: UTF8.self)
            result.append(RecordHeader(key: key, value: value.map { Array(UnsafeRawBufferPointer(rebasing: buffer[$0])) }))
        }
        return result
    }

    /// The value of the first of the `count` headers at `range` of `buffer` whose key bytes
    /// equal `key`: nil when none does, `.some(nil)` when its value is null.
    static func headerValue(in buffer: UnsafeRawBufferPointer, at range: Range<Int>, count: Int, forKey key: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer?? {
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: buffer[0..<range.upperBound]), position: range.lowerBound)
        for _ in 0..<count {
            guard case .some(.some(let name)) = reader.readBytesRange(maxBytes: Limits.maxHeaderKeyBytes),
                case .some(let value) = reader.readBytesRange(maxBytes: Limits.maxRecordBytes)
            else { return nil }
            let nameBytes = UnsafeRawBufferPointer(rebasing: buffer[name])
            if nameBytes.hasSameBytes(as: key) {
                return .some(value.map { UnsafeRawBufferPointer(rebasing: buffer[$0]) })
            }
        }
        return nil
    }

    fileprivate func corrupt(_ reason: String) -> StreamStoreError {
        StreamStoreError(.corruptBatch, "Batch at offset \(header.baseOffset) is malformed: \(reason).", offset: header.baseOffset)
    }
}

extension UnsafeRawBufferPointer {
    /// Whether both buffers hold the same bytes (empty buffers may have no address).
    @inline(__always)
    package func hasSameBytes(as other: UnsafeRawBufferPointer) -> Bool {
        guard count == other.count else { return false }
        guard let left = baseAddress, let right = other.baseAddress else { return count == 0 }
        return memcmp(left, right, count) == 0
    }
}
