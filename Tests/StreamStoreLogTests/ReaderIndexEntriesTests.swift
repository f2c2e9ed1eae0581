import Testing
@testable import StreamStoreLog

/// A reader process counts the entries of a live segment's preallocated index by validating
/// them: what it accepts must be what the writer wrote, and zeroed room is not an entry.
@Suite struct ReaderIndexEntriesTests {
    private func entries(_ pairs: [(UInt32, UInt32)], slack zeroedSlots: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for (offset, position) in pairs {
            for value in [offset, position] { bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        }
        return bytes + [UInt8](repeating: 0, count: zeroedSlots * OffsetIndex.entryBytes)
    }

    /// A writer killed before its fresh segment's first entry leaves only zeroed slots; `verify`
    /// from a reader counted the first as an entry (0, 0) and reported the index as disagreeing.
    @Test func zeroedRoomOfAFreshSegmentIsNoEntry() {
        let bytes = entries([], slack: 8)
        #expect(ReaderSegmentFiles.validOffsetEntries(bytes, baseOffset: 34_240, limit: (offset: 34_280, position: 1_082)) == 0)
    }

    @Test func writtenEntriesAreCountedUpToTheZeroedRoom() {
        let bytes = entries([(60, 1_433), (120, 2_896), (180, 4_399)], slack: 8)
        #expect(ReaderSegmentFiles.validOffsetEntries(bytes, baseOffset: 0, limit: nil) == 3)
        #expect(ReaderSegmentFiles.validOffsetEntries(bytes, baseOffset: 0, limit: (offset: 150, position: 10_000)) == 2)
    }
}
