import Foundation
import Testing

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// The sparse time index of one segment: entries of (running maximum timestamp, relative
/// offset), where a search for a timestamp starts scanning, and the checks before it is trusted.
@Suite struct TimeIndexTests {
    /// A segment based at 500 with entries (1000, 510), (2000, 520), (2000, 525), (3000, 530).
    private func fourEntries(_ fixture: LogFixture) throws -> TimeIndex {
        let index = try fixture.timeIndex(baseOffset: 500)
        for (timestamp, offset) in [(1000, 510), (2000, 520), (2000, 525), (3000, 530)] as [(Int64, Int64)] {
            #expect(try index.append(timestamp: timestamp, offset: offset))
        }
        return index
    }

    /// "Every record before offset o has a timestamp at most T": a search for T starts at the
    /// last entry whose timestamp is below T, or at the segment's base.
    @Test func aSearchStartsAtTheLastEntryBelowTheTimestamp() throws {
        let fixture = try LogFixture()
        let index = try fourEntries(fixture)
        let expected: [(timestamp: Int64, start: Int64)] = [
            (Int64.min, 500), (999, 500), (1000, 500), (1001, 510), (2000, 510), (2001, 525), (3000, 525), (3001, 530), (Int64.max, 530),
        ]
        for (timestamp, start) in expected {
            #expect(index.scanStart(forTimestamp: timestamp) == start, "timestamp \(timestamp)")
        }
    }

    @Test func anEmptyIndexStartsEverySearchAtTheBaseAndHasNoLastEntry() throws {
        let fixture = try LogFixture()
        let index = try fixture.timeIndex(baseOffset: 500)
        #expect(index.scanStart(forTimestamp: 1234) == 500)
        #expect(index.last == nil)
    }

    @Test func theLastEntryIsTheNewest() throws {
        let fixture = try LogFixture()
        let index = try fourEntries(fixture)
        #expect(index.last == TimeIndex.Entry(timestamp: 3000, relativeOffset: 30))
        #expect(index.entries().map(\.relativeOffset) == [10, 20, 25, 30])
    }

    @Test func entriesAreStoredAsBigEndianTimestampAndRelativeOffset() throws {
        let fixture = try LogFixture()
        let index = try fixture.timeIndex(baseOffset: 500)
        #expect(try index.append(timestamp: 0x0102_0304_0506_0708, offset: 500 + 0x0A0B))
        try index.file.trim()
        #expect(try fixture.bytes(index.file.path) == [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x0A, 0x0B])
        let reopened = try fixture.timeIndex(baseOffset: 500, entryCount: 1)
        #expect(reopened.last == TimeIndex.Entry(timestamp: 0x0102_0304_0506_0708, relativeOffset: 0x0A0B))
    }

    // MARK: Validation

    private func indexBytes(_ entries: [(Int64, UInt32)]) -> [UInt8] {
        entries.flatMap { timestamp, relative in
            withUnsafeBytes(of: timestamp.bigEndian, Array.init) + withUnsafeBytes(of: relative.bigEndian, Array.init)
        }
    }

    @Test func soundEntriesPassValidationAndTheFinalEntryMayNameTheNextOffset() {
        #expect(TimeIndex.validate([], segmentEntries: 0) == nil)
        // Equal timestamps are sound: the running maximum did not grow between two entries.
        #expect(TimeIndex.validate(indexBytes([(-5, 1), (-5, 2), (7, 3)]), segmentEntries: nil) == nil)
        // A sealed segment's final entry names its next offset: one past its last record.
        #expect(TimeIndex.validate(indexBytes([(10, 4), (20, 9)]), segmentEntries: 9) == nil)
    }

    @Test func damagedEntriesFailValidationWithTheirReason() {
        #expect(TimeIndex.validate([UInt8](repeating: 0, count: 13), segmentEntries: nil) == "size 13 is not a multiple of 12")
        #expect(TimeIndex.validate([UInt8](repeating: 0, count: 12), segmentEntries: nil) == "entry 0 (0, 0) does not increase")
        #expect(TimeIndex.validate(indexBytes([(20, 1), (10, 2)]), segmentEntries: nil) == "entry 1 (10, 2) does not increase")
        #expect(TimeIndex.validate(indexBytes([(10, 2), (20, 2)]), segmentEntries: nil) == "entry 1 (20, 2) does not increase")
        #expect(TimeIndex.validate(indexBytes([(10, 4), (20, 10)]), segmentEntries: 9) == "entry 1 names relative offset 10, past the segment's end")
    }
}
