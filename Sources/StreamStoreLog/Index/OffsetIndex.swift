import StreamStoreFormat
/// The sparse offset index of one segment: entries of (relative offset uint32, file position
/// uint32), big-endian, 8 bytes each, one per `indexIntervalBytes` of log
/// (docs/FORMAT.md, "Offset index").
///
/// An entry says "the batch whose base offset is `segmentBase + relativeOffset` starts at
/// `position`". Lookup finds the last entry at or before an offset and the reader scans forward
/// from its position, at most about one index interval of bytes.
package struct OffsetIndex {
    package static let entryBytes = 8
    let file: IndexFile
    let baseOffset: Int64

    package struct Entry: Equatable {
        package var relativeOffset: UInt32
        package var position: UInt32
    }

    /// Adds an entry for the batch with base offset `offset` at `position`. False when full.
    func append(offset: Int64, position: Int64) throws(StreamStoreError) -> Bool {
        let relative = UInt32(truncatingIfNeeded: offset - baseOffset)
        let filePosition = UInt32(truncatingIfNeeded: position)
        return try file.append { slot in
            BigEndian.store(relative, slot, 0)
            BigEndian.store(filePosition, slot, 4)
        }
    }

    /// File position of the last indexed batch whose base offset is at most `offset`, or 0.
    func position(floorOf offset: Int64) -> Int64 {
        guard offset > baseOffset else { return 0 }
        let target = UInt32(truncatingIfNeeded: min(offset - baseOffset, Int64(UInt32.max)))
        return file.withEntries { base, count in
            guard let base, count > 0 else { return 0 }
            let found = IndexSearch.lastAtOrBelow(count: count) { index in
                BigEndian.load(UInt32.self, base, index * OffsetIndex.entryBytes) <= target
            }
            guard let found else { return 0 }
            return Int64(BigEndian.load(UInt32.self, base, found * OffsetIndex.entryBytes + 4))
        }
    }

    /// File position of the last indexed batch that starts at or before `position`, or nil when
    /// no entry does: a batch boundary a read can end at, so it reads whole batches only.
    func batchStart(atOrBelow position: Int64) -> Int64? {
        guard position > 0 else { return nil }
        let target = UInt32(truncatingIfNeeded: min(position, Int64(UInt32.max)))
        return file.withEntries { base, count in
            guard let base, count > 0 else { return nil }
            let found = IndexSearch.lastAtOrBelow(count: count) { index in
                BigEndian.load(UInt32.self, base, index * OffsetIndex.entryBytes + 4) <= target
            }
            return found.map { Int64(BigEndian.load(UInt32.self, base, $0 * OffsetIndex.entryBytes + 4)) }
        }
    }

    /// The entries, for tools and tests.
    package func entries() -> [Entry] {
        file.withEntries { base, count in
            guard let base else { return [] }
            return (0..<count).map { index in
                Entry(
                    relativeOffset: BigEndian.load(UInt32.self, base, index * 8),
                    position: BigEndian.load(UInt32.self, base, index * 8 + 4))
            }
        }
    }

    /// Checks raw index bytes before they are trusted: whole entries, strictly increasing
    /// offsets and positions, nothing zeroed, nothing past the log. Returns the reason for
    /// doubt, or nil when the index is sound.
    package static func validate(_ bytes: [UInt8], logBytes: Int64, segmentEntries: Int64?) -> String? {
        guard bytes.count % entryBytes == 0 else { return "size \(bytes.count) is not a multiple of \(entryBytes)" }
        return bytes.withUnsafeBytes { raw -> String? in
            guard let base = raw.baseAddress else { return nil }
            var previousOffset: Int64 = 0
            var previousPosition: Int64 = 0
            for index in 0..<(bytes.count / entryBytes) {
                let relative = Int64(BigEndian.load(UInt32.self, base, index * 8))
                let position = Int64(BigEndian.load(UInt32.self, base, index * 8 + 4))
                guard relative > previousOffset, position > previousPosition else {
                    return "entry \(index) (\(relative), \(position)) does not increase"
                }
                guard position < logBytes else { return "entry \(index) points at \(position), past the log's \(logBytes) bytes" }
                if let segmentEntries, relative >= segmentEntries {
                    return "entry \(index) names relative offset \(relative), past the segment's last"
                }
                previousOffset = relative
                previousPosition = position
            }
            return nil
        }
    }
}

/// Binary search over a sorted index that tries the warm tail first.
///
/// Most lookups are for recent offsets (tailing consumers, recent timestamps), which live in the
/// last few KiB of the index. Searching that tail first keeps those lookups on pages that are
/// already in memory, instead of touching the cold middle of a large index on every probe
/// (the reason Kafka's AbstractIndex does the same).
package enum IndexSearch {
    /// Entries in the warm tail: 8 KiB of 8-byte entries.
    static let warmEntries = 1024

    /// The last index whose entry satisfies `isAtOrBelow` (a predicate that is true for a prefix
    /// of the entries), or nil when none does.
    @inline(__always)
    package static func lastAtOrBelow(count: Int, _ isAtOrBelow: (Int) -> Bool) -> Int? {
        guard count > 0, isAtOrBelow(0) else { return nil }
        let warmStart = max(0, count - warmEntries)
        var low: Int
        var high: Int
        if isAtOrBelow(warmStart) {
            low = warmStart
            high = count - 1
        } else {
            low = 0
            high = warmStart - 1
        }
        while low < high {
            let middle = low + (high - low + 1) / 2
            if isAtOrBelow(middle) { low = middle } else { high = middle - 1 }
        }
        return low
    }
}
