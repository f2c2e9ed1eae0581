import Foundation
import Testing

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// The sparse offset index of one segment: entries of (relative offset, file position), a
/// floor lookup over them, and the checks an index file passes before it is trusted.
@Suite struct OffsetIndexTests {
    /// Entries for base offsets 1010, 1020 and 1035 of a segment based at 1000.
    private func threeEntries(_ fixture: LogFixture) throws -> OffsetIndex {
        let index = try fixture.offsetIndex(baseOffset: 1000)
        #expect(try index.append(offset: 1010, position: 100))
        #expect(try index.append(offset: 1020, position: 250))
        #expect(try index.append(offset: 1035, position: 400))
        return index
    }

    @Test func aLookupFindsThePositionOfTheLastEntryAtOrBeforeTheOffset() throws {
        let fixture = try LogFixture()
        let index = try threeEntries(fixture)
        let expected: [(offset: Int64, position: Int64)] = [
            (900, 0), (1000, 0), (1009, 0), (1010, 100), (1019, 100), (1020, 250), (1034, 250), (1035, 400), (1_000_000, 400),
        ]
        for (offset, position) in expected {
            #expect(index.position(floorOf: offset) == position, "offset \(offset)")
        }
    }

    @Test func anEmptyIndexSendsEveryLookupToTheSegmentStart() throws {
        let fixture = try LogFixture()
        let index = try fixture.offsetIndex(baseOffset: 1000)
        #expect(index.position(floorOf: 5000) == 0)
        #expect(index.entries().isEmpty)
    }

    @Test func entriesAreStoredAsBigEndianRelativeOffsetAndPosition() throws {
        let fixture = try LogFixture()
        let index = try threeEntries(fixture)
        #expect(index.entries() == [.init(relativeOffset: 10, position: 100), .init(relativeOffset: 20, position: 250), .init(relativeOffset: 35, position: 400)])
        try index.file.trim()
        let bytes = try fixture.bytes(index.file.path)
        #expect(bytes == [0, 0, 0, 10, 0, 0, 0, 100, 0, 0, 0, 20, 0, 0, 0, 250, 0, 0, 0, 35, 0, 0, 1, 144])
    }

    @Test func anIndexGrowsPreallocatedAndIsTrimmedToItsEntries() throws {
        let fixture = try LogFixture()
        let index = try threeEntries(fixture)
        #expect(try fixture.size(index.file.path) == Int64(Limits.initialIndexBytes), "the first append preallocates room")
        try index.file.trim()
        #expect(try fixture.size(index.file.path) == 24)
        // Reopened with its entry count, as a segment opens its indexes, it sees the same entries.
        let reopened = try fixture.offsetIndex(baseOffset: 1000, entryCount: 3)
        #expect(reopened.entries() == index.entries())
        #expect(reopened.position(floorOf: 1025) == 250)
    }

    @Test func aFullIndexRefusesAnEntryAndWritesNothing() throws {
        let fixture = try LogFixture()
        let index = try fixture.offsetIndex(baseOffset: 0, maxIndexBytes: 2 * OffsetIndex.entryBytes)
        #expect(try index.append(offset: 1, position: 10))
        #expect(!index.file.isFull)
        #expect(try index.append(offset: 2, position: 20))
        #expect(index.file.isFull)
        #expect(try !index.append(offset: 3, position: 30), "a full index says so, and the segment must roll")
        #expect(index.file.entryCount == 2)
        #expect(index.position(floorOf: 3) == 20)
    }

    @Test func truncatingDropsTheEntriesFromTheGivenCountOn() throws {
        let fixture = try LogFixture()
        let index = try threeEntries(fixture)
        index.file.truncate(toEntryCount: 1)
        #expect(index.entries() == [.init(relativeOffset: 10, position: 100)])
        #expect(index.position(floorOf: 1035) == 100)
        // The freed slots are written again by the next appends.
        #expect(try index.append(offset: 1012, position: 120))
        #expect(index.position(floorOf: 1035) == 120)
    }

    /// More entries than the warm tail the search tries first: lookups in the cold part and in
    /// the tail both land on the right entry.
    @Test func lookupsAreRightInTheColdPartAndTheWarmTail() throws {
        let fixture = try LogFixture()
        let index = try fixture.offsetIndex(baseOffset: 0)
        let count = IndexSearch.warmEntries * 3
        for entry in 1...count { #expect(try index.append(offset: Int64(entry * 10), position: Int64(entry * 100))) }
        for entry in [1, 2, 500, count - IndexSearch.warmEntries - 1, count - IndexSearch.warmEntries, count - 1, count] {
            #expect(index.position(floorOf: Int64(entry * 10)) == Int64(entry * 100), "entry \(entry), exact")
            #expect(index.position(floorOf: Int64(entry * 10 + 9)) == Int64(entry * 100), "entry \(entry), between")
        }
        #expect(index.position(floorOf: 9) == 0)
    }

    @Test func theSearchFindsTheLastIndexOfATruePrefix() {
        #expect(IndexSearch.lastAtOrBelow(count: 0) { _ in true } == nil)
        #expect(IndexSearch.lastAtOrBelow(count: 5) { _ in false } == nil)
        #expect(IndexSearch.lastAtOrBelow(count: 5) { _ in true } == 4)
        for count in [1, 7, IndexSearch.warmEntries, IndexSearch.warmEntries + 1, 3000] {
            for last in Set([0, count / 2, count - 1]) {
                #expect(IndexSearch.lastAtOrBelow(count: count) { $0 <= last } == last, "count \(count), last \(last)")
            }
        }
    }

    // MARK: Validation

    /// Raw index bytes: (relative offset, position) pairs, big-endian.
    private func indexBytes(_ entries: [(UInt32, UInt32)]) -> [UInt8] {
        entries.flatMap { relative, position in
            withUnsafeBytes(of: relative.bigEndian, Array.init) + withUnsafeBytes(of: position.bigEndian, Array.init)
        }
    }

    @Test func soundEntriesPassValidation() {
        #expect(OffsetIndex.validate([], logBytes: 0, segmentEntries: 0) == nil)
        #expect(OffsetIndex.validate(indexBytes([(10, 100), (20, 250)]), logBytes: 251, segmentEntries: 21) == nil)
        #expect(OffsetIndex.validate(indexBytes([(10, 100), (20, 250)]), logBytes: 251, segmentEntries: nil) == nil)
    }

    @Test(arguments: [
        ([UInt8](repeating: 1, count: 12), "size 12 is not a multiple of 8"),
        ([UInt8](repeating: 0, count: 16), "entry 0 (0, 0) does not increase"),
    ])
    func damagedBytesFailValidation(bytes: [UInt8], reason: String) {
        #expect(OffsetIndex.validate(bytes, logBytes: 1 << 20, segmentEntries: nil) == reason)
    }

    @Test func entriesThatDoNotIncreaseOrPointPastTheSegmentFailValidation() {
        #expect(OffsetIndex.validate(indexBytes([(10, 100), (10, 200)]), logBytes: 1000, segmentEntries: nil) == "entry 1 (10, 200) does not increase")
        #expect(OffsetIndex.validate(indexBytes([(10, 100), (20, 100)]), logBytes: 1000, segmentEntries: nil) == "entry 1 (20, 100) does not increase")
        #expect(OffsetIndex.validate(indexBytes([(10, 100), (20, 1000)]), logBytes: 1000, segmentEntries: nil) == "entry 1 points at 1000, past the log's 1000 bytes")
        #expect(OffsetIndex.validate(indexBytes([(10, 100), (20, 200)]), logBytes: 1000, segmentEntries: 20) == "entry 1 names relative offset 20, past the segment's last")
    }
}
