import Foundation
import Testing

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Stored batches read straight into a caller's buffer (a Kafka fetch answer) are exactly those
/// the checked walk copies out, for every offset and byte limit, across segments; damage ends a
/// read where the walk's does.
@Suite struct StoredBatchReadTests {
    /// A growable array standing in for a response buffer.
    struct ArraySink: StoredBatchSink {
        var bytes: [UInt8] = [0xEE, 0xEE]  // what came before in the response stays untouched
        /// How often the batches were checked in the sink: only the in-place path does that.
        let inspections = Locked(0)

        var count: Int { bytes.count }

        mutating func append(capacity: Int, _ fill: (UnsafeMutableRawBufferPointer) throws(StreamStoreError) -> Int) throws(StreamStoreError) {
            let space = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
            defer { space.deallocate() }
            let written = try fill(space)
            bytes += UnsafeRawBufferPointer(rebasing: space[..<written])
        }

        func withBytes<Result>(from start: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            inspections.withLock { $0 += 1 }
            return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        }

        mutating func truncate(to count: Int) { bytes.removeLast(bytes.count - count) }
    }

    @Test func inPlaceReadsMatchTheCheckedWalkAtEveryOffsetAndLimit() async throws {
        let fixture = try LogFixture(config: .testing(segmentBytes: 2048, indexIntervalBytes: 256))
        try fixture.open(clean: true)
        try await fixture.append(batches: 40, recordsEach: 7)
        let partition = try fixture.opened()
        #expect(try fixture.files(suffix: ".log").count > 3)
        for offset in Int64(0)...280 {
            for maxBytes in [0, 150, 400, 1000, 3000, 1 << 20] {
                let walked = try partition.readStoredBatches(from: offset, maxBytes: maxBytes)
                var sink = ArraySink()
                let ends = try partition.readStoredBatches(from: offset, maxBytes: maxBytes, into: &sink)
                #expect(Array(sink.bytes.prefix(2)) == [0xEE, 0xEE])
                #expect(Array(sink.bytes.dropFirst(2)) == walked.bytes, "offset \(offset), \(maxBytes) bytes")
                #expect(ends.logEndOffset == walked.logEndOffset && ends.logStartOffset == walked.logStartOffset)
                #expect(sink.inspections.withLock { $0 } > 0 || walked.bytes.isEmpty, "offset \(offset): read through the fallback")
            }
        }
    }

    @Test func aDamagedBatchEndsTheReadBeforeItAndFailsAReadThatStartsAtIt() async throws {
        let fixture = try LogFixture()
        try fixture.open(clean: true)
        let ends = try await fixture.appendNotingEnds(batches: 6, recordsEach: 5)
        let partition = try fixture.opened()
        // Flip a byte inside the fourth batch's records: its CRC no longer matches.
        let logPath = try #require(try fixture.files(suffix: ".log").first)
        var log = try fixture.bytes(logPath)
        log[Int(ends[2]) + BatchHeader.size + 3] ^= 0xFF
        try fixture.write(log, to: logPath)
        var sink = ArraySink()
        _ = try partition.readStoredBatches(from: 0, maxBytes: 1 << 20, into: &sink)
        #expect(sink.bytes.count - 2 == Int(ends[2]))
        var again = ArraySink()
        let corrupt = #expect(throws: StreamStoreError.self) { try partition.readStoredBatches(from: 15, maxBytes: 1 << 20, into: &again) }
        #expect(corrupt?.code == .corruptBatch, "\(String(describing: corrupt))")
        #expect(again.bytes.count == 2)
    }
}
