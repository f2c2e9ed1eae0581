import StreamStoreFormat
/// The sparse time index of one segment: entries of (timestamp int64, relative offset uint32),
/// big-endian, 12 bytes each (docs/FORMAT.md, "Time index").
///
/// An entry (T, o) says "every record of this segment before offset `base + o` has a timestamp
/// at most T". Timestamps are the running maximum, so entries are monotonic even when producers
/// supply out-of-order create times, and "the first offset whose running maximum is at or
/// after T" starts its scan at the last entry whose timestamp is below T.
/// When a segment is sealed a final entry records its largest timestamp and next offset, so a
/// sealed segment's newest timestamp is known without reading its log.
package struct TimeIndex {
    package static let entryBytes = 12
    let file: IndexFile
    let baseOffset: Int64

    struct Entry: Equatable {
        var timestamp: Int64
        var relativeOffset: UInt32
    }

    func append(timestamp: Int64, offset: Int64) throws(StreamStoreError) -> Bool {
        let relative = UInt32(truncatingIfNeeded: offset - baseOffset)
        return try file.append { slot in
            BigEndian.store(timestamp, slot, 0)
            BigEndian.store(relative, slot, 8)
        }
    }

    /// The last entry, if any.
    var last: Entry? {
        file.withEntries { base, count in
            guard let base, count > 0 else { return nil }
            let at = (count - 1) * TimeIndex.entryBytes
            return Entry(timestamp: BigEndian.load(Int64.self, base, at), relativeOffset: BigEndian.load(UInt32.self, base, at + 8))
        }
    }

    /// The offset to start scanning from for the first record at or after `timestamp`: the
    /// offset of the last entry whose timestamp is below it, or the segment's base offset.
    func scanStart(forTimestamp timestamp: Int64) -> Int64 {
        file.withEntries { base, count in
            guard let base, count > 0 else { return baseOffset }
            let found = IndexSearch.lastAtOrBelow(count: count) { index in
                BigEndian.load(Int64.self, base, index * TimeIndex.entryBytes) < timestamp
            }
            guard let found else { return baseOffset }
            return baseOffset + Int64(BigEndian.load(UInt32.self, base, found * TimeIndex.entryBytes + 8))
        }
    }

    func entries() -> [Entry] {
        file.withEntries { base, count in
            guard let base else { return [] }
            return (0..<count).map { index in
                Entry(
                    timestamp: BigEndian.load(Int64.self, base, index * 12),
                    relativeOffset: BigEndian.load(UInt32.self, base, index * 12 + 8))
            }
        }
    }

    /// Checks raw bytes: whole entries, timestamps non-decreasing, offsets increasing, and
    /// offsets at most `segmentEntries` (the final entry names the next offset).
    package static func validate(_ bytes: [UInt8], segmentEntries: Int64?) -> String? {
        guard bytes.count % entryBytes == 0 else { return "size \(bytes.count) is not a multiple of \(entryBytes)" }
        return bytes.withUnsafeBytes { raw -> String? in
            guard let base = raw.baseAddress else { return nil }
            var previousTimestamp = Int64.min
            var previousOffset: Int64 = 0
            for index in 0..<(bytes.count / entryBytes) {
                let timestamp = BigEndian.load(Int64.self, base, index * 12)
                let relative = Int64(BigEndian.load(UInt32.self, base, index * 12 + 8))
                guard timestamp >= previousTimestamp, relative > previousOffset else {
                    return "entry \(index) (\(timestamp), \(relative)) does not increase"
                }
                if let segmentEntries, relative > segmentEntries {
                    return "entry \(index) names relative offset \(relative), past the segment's end"
                }
                previousTimestamp = timestamp
                previousOffset = relative
            }
            return nil
        }
    }
}
