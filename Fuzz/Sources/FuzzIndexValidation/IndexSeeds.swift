import FuzzSupport

/// Seeds for the index target: the real indexes of the fixture's segments, and the damage an
/// index meets in practice (cut short, zeroed, missing), each as flags, split and bytes.
enum IndexSeeds {
    static func make(_ fixture: IndexFixture) -> [(name: String, bytes: [UInt8])] {
        var seeds: [(name: String, bytes: [UInt8])] = []
        let both = IndexLayout(flags: 0x0C)
        for (index, segment) in fixture.segments.enumerated() where index < 4 {
            var layout = both
            layout.segment = index
            let kind = index == fixture.segments.count - 1 ? "active" : "sealed"
            seeds.append(("\(kind)-segment-\(index)-real-indexes", input(layout, segment.offsetIndex, segment.timeIndex)))
        }
        let first = fixture.segments[0]
        seeds.append(("offset-index-cut-short", input(both, Array(first.offsetIndex.dropLast(3)), first.timeIndex)))
        seeds.append(("offset-index-zeroed-tail", input(both, first.offsetIndex + [UInt8](repeating: 0, count: 16), first.timeIndex)))
        seeds.append(("time-index-without-final-entry", input(both, first.offsetIndex, Array(first.timeIndex.dropLast(12)))))
        seeds.append(("both-missing", input(IndexLayout(flags: 0x1C), [], [])))
        seeds.append(("one-open-segment-at-a-time", input(IndexLayout(flags: 0x2C), first.offsetIndex, first.timeIndex)))
        // 1,500 increasing entries: more than the 1,024 of the warm tail, so lookups also search
        // the cold part (the validators accept it only when not held to the fixture's small log).
        var large: [UInt8] = []
        for entry in 1...1500 { large += withUnsafeBytes(of: UInt32(entry).bigEndian) { Array($0) } + withUnsafeBytes(of: UInt32(entry * 100).bigEndian) { Array($0) } }
        seeds.append(("large-offset-index", input(IndexLayout(flags: 0x04), large, [])))
        return seeds
    }

    static func input(_ layout: IndexLayout, _ offsetIndex: [UInt8], _ timeIndex: [UInt8]) -> [UInt8] {
        let count = UInt16(offsetIndex.count)
        return [layout.flags, UInt8(count & 0xFF), UInt8(count >> 8)] + offsetIndex + timeIndex
    }
}
