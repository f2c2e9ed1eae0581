import CStreamStoreShims
import StreamStoreFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the writer lets readers of one partition see: where the visible log ends, where it
/// starts, and which segment the end lies in (docs/FORMAT.md, "Live files").
///
/// Under ``FlushPolicy/everyAppend`` the visible end is the durable end; under `.interval` and
/// `.never` it is the written end, which a process crash cannot take back (the kernel keeps what
/// was written) but a power loss can.
package struct PublishedEnd: Sendable, Equatable {
    /// The offset after the last visible record.
    package var offset: Int64
    /// The segment the visible end lies in, and the end's byte position in its log file.
    package var segmentBaseOffset: Int64
    package var position: Int64
    /// The first offset still kept (retention moves it).
    package var logStartOffset: Int64
    /// Changes whenever the writer's list of segments changes (a roll, a deletion, a recovery),
    /// so a reader knows when to list the partition's folder again.
    package var segmentListVersion: UInt64
    /// The writer generation that published this (``LiveStoreFile/writerGeneration``).
    package var writerGeneration: UInt64
    /// The largest record timestamp of the segment the end lies in (ms), or `Int64.min` while it
    /// holds none: what timestamp lookups and `describe` need of the active segment, which a
    /// reader could otherwise learn only by reading its batches.
    package var activeMaxTimestamp: Int64

    package init(
        offset: Int64, segmentBaseOffset: Int64, position: Int64, logStartOffset: Int64, segmentListVersion: UInt64, writerGeneration: UInt64,
        activeMaxTimestamp: Int64 = Int64.min
    ) {
        self.activeMaxTimestamp = activeMaxTimestamp
        self.offset = offset
        self.segmentBaseOffset = segmentBaseOffset
        self.position = position
        self.logStartOffset = logStartOffset
        self.segmentListVersion = segmentListVersion
        self.writerGeneration = writerGeneration
    }
}

/// A partition's `published` file: two seqlock slots the writer fills in turn, so a writer killed
/// in the middle of a write always leaves the other slot whole for readers.
///
/// ```
/// 0   magic "SSPUBEND"       8  version (1)
/// 64  slot 0: sequence, count, offset, segmentBaseOffset, position, logStartOffset,
///             segmentListVersion, writerGeneration, activeMaxTimestamp   (nine 8-byte words)
/// 192 slot 1: the same
/// ```
/// `count` numbers the writes; a reader takes the consistent slot with the larger count.
package final class PublishedEndFile: @unchecked Sendable {
    package static let magic: UInt64 = 0x444E_4542_5550_5353  // "SSPUBEND" in little-endian bytes
    package static let slotOffsets = [64, 192]
    private static let valueCount = 8

    private let mapping: LiveMapping
    /// Writer only, under the partition's lock: how many writes so far.
    private var writes: UInt64

    private init(mapping: LiveMapping) {
        self.mapping = mapping
        var newest: UInt64 = 0
        for slot in Self.slotOffsets { newest = max(newest, mapping.load(at: slot + 8)) }
        writes = newest
    }

    package static func openForWriting(folder: String, mode: mode_t, fileSystem: FileSystem) throws(StreamStoreError) -> PublishedEndFile {
        let path = FileNames.join(folder, FileNames.publishedEnd)
        return PublishedEndFile(mapping: try LiveMapping.openForWriting(path, magic: magic, mode: mode, fileSystem: fileSystem))
    }

    /// Nil when the partition has no published end yet (no writer has opened it since the store
    /// was created or upgraded).
    package static func openForReading(folder: String, fileSystem: FileSystem) throws(StreamStoreError) -> PublishedEndFile? {
        let path = FileNames.join(folder, FileNames.publishedEnd)
        return try LiveMapping.openForReading(path, magic: magic, fileSystem: fileSystem).map(PublishedEndFile.init(mapping:))
    }

    /// Writer only; the caller serialises calls (the partition's lock).
    package func publish(_ end: PublishedEnd) {
        guard let base = mapping.writable else { preconditionFailure("a reader cannot publish") }
        writes += 1
        let slot = Self.slotOffsets[Int(writes % 2)]
        // Once per published batch, on the append path: no allocation.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.valueCount) { values in
            values.initialize(repeating: 0)
            values[0] = writes
            values[1] = UInt64(bitPattern: end.offset)
            values[2] = UInt64(bitPattern: end.segmentBaseOffset)
            values[3] = UInt64(bitPattern: end.position)
            values[4] = UInt64(bitPattern: end.logStartOffset)
            values[5] = end.segmentListVersion
            values[6] = end.writerGeneration
            values[7] = UInt64(bitPattern: end.activeMaxTimestamp)
            ss_slot_write(base + slot, values.baseAddress, Int32(Self.valueCount))
        }
    }

    /// The newest whole published end, or nil when none was ever published. A slot being written
    /// at this instant is skipped for the other, older one.
    package func read() -> PublishedEnd? {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.valueCount) { values in
            values.initialize(repeating: 0)
            var best: (count: UInt64, end: PublishedEnd)?
            // Both slots torn at once needs two writes during one read: try a few times.
            for _ in 0..<8 {
                for slot in Self.slotOffsets {
                    guard ss_slot_read(mapping.base + slot, values.baseAddress, Int32(Self.valueCount)) == 1,
                        values[0] > 0, values[0] > (best?.count ?? 0)
                    else { continue }
                    best = (
                        values[0],
                        PublishedEnd(
                            offset: Int64(bitPattern: values[1]), segmentBaseOffset: Int64(bitPattern: values[2]),
                            position: Int64(bitPattern: values[3]), logStartOffset: Int64(bitPattern: values[4]),
                            segmentListVersion: values[5], writerGeneration: values[6], activeMaxTimestamp: Int64(bitPattern: values[7]))
                    )
                }
                if let best { return best.end }
            }
            return nil
        }
    }
}
