import StreamStore

/// The values a benchmark appends, made before any clock starts: a pool of distinct values in one
/// block of raw memory, cycled through, so the timed loop only copies bytes into batches.
///
/// Immutable after `init` and only read afterwards, so producer tasks may share it.
final class BenchPayloadPool: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    private let starts: [Int]
    private let counts: [Int]
    /// `count - 1`; the count is a power of two, so `index & mask` picks a value.
    private let mask: Int
    /// The longest value, for sizing batches and read limits.
    let maxValueBytes: Int

    init(kind: BenchOptions.Payload, recordBytes: Int) {
        // At most 4096 values and about 64 MiB in all (one value for the fixed pattern).
        var poolCount = 1
        switch kind {
        case .pattern: poolCount = 1
        case .json: poolCount = 4096
        case .random:
            let fit = max(1, (64 << 20) / max(recordBytes, 1))
            while poolCount * 2 <= min(4096, fit) { poolCount *= 2 }
        }
        var generator = SystemRandomNumberGenerator()
        let values: [[UInt8]] = (0..<poolCount).map { index in
            switch kind {
            case .random:
                // Eight bytes per call: the system generator is a syscall each time, and a byte per
                // call made the setup of a 1 KiB pool take seconds.
                var bytes = [UInt8](repeating: 0, count: recordBytes)
                var word: UInt64 = 0
                for index in 0..<recordBytes {
                    if index % 8 == 0 { word = generator.next() }
                    bytes[index] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(index % 8)))
                }
                return bytes
            case .json: return Array(benchOrderEvent(index, using: &generator).utf8)
            case .pattern: return (0..<recordBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            }
        }
        let total = values.reduce(0) { $0 + $1.count }
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 16)
        var starts: [Int] = []
        var cursor = 0
        for value in values {
            starts.append(cursor)
            UnsafeMutableRawBufferPointer(rebasing: storage[cursor..<(cursor + value.count)]).copyBytes(from: value)
            cursor += value.count
        }
        self.starts = starts
        counts = values.map(\.count)
        mask = poolCount - 1
        maxValueBytes = counts.max() ?? 0
    }

    deinit {
        storage.deallocate()
    }

    /// The value for record number `index`.
    @inline(__always)
    func value(_ index: Int) -> UnsafeRawBufferPointer {
        let slot = index & mask
        let start = starts[slot]
        return UnsafeRawBufferPointer(rebasing: storage[start..<(start + counts[slot])])
    }
}

/// An order event of about 290 bytes with realistic variety (ids, amounts, cities, times): the
/// `json` payload, shaped like the events of `demo` and the `appendZstdJSON` benchmarks.
func benchOrderEvent(_ index: Int, using generator: inout SystemRandomNumberGenerator) -> String {
    let types = ["order-placed", "order-paid", "order-shipped"]
    let cities = ["Lisbon", "Berlin", "Osaka", "Austin", "Nairobi", "Lyon", "Porto", "Quito"]
    let hour = Int.random(in: 10...19, using: &generator)
    let minute = Int.random(in: 10...59, using: &generator)
    return """
        {"type":"\(types[index % 3])","orderId":"o-\(100_000 + index)","customerId":"customer-\(Int.random(in: 0...4_999, using: &generator))",\
        "amountCents":\(Int.random(in: 100...99_999, using: &generator)),"currency":"EUR","items":\(Int.random(in: 1...8, using: &generator)),\
        "city":"\(cities[Int.random(in: 0..<cities.count, using: &generator)])","placedAt":"2026-11-29T\(hour):\(minute):00Z",\
        "correlationId":"c-\(index / 3)","sku":"SKU-\(Int.random(in: 0...999_999, using: &generator))","channel":"web",\
        "email":"shopper\(Int.random(in: 0...99_999, using: &generator))@example.com","street":"\(Int.random(in: 1...400, using: &generator)) Harbour Road"}
        """
}

/// Latency percentiles from a list of samples, by sorting (no histogram library).
struct BenchPercentiles {
    var p50: Double
    var p99: Double
    var p999: Double
    var max: Double
    var count: Int

    /// `samples` in any unit; the percentiles come out multiplied by `scale`.
    init(_ samples: [Int64], scale: Double) {
        let sorted = samples.sorted()
        count = sorted.count
        func at(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            // Nearest rank: the smallest sample with at least `fraction` of the samples at or below it.
            let rank = Int((fraction * Double(sorted.count)).rounded(.up))
            return Double(sorted[min(sorted.count - 1, Swift.max(0, rank - 1))]) * scale
        }
        p50 = at(0.50)
        p99 = at(0.99)
        p999 = at(0.999)
        max = Double(sorted.last ?? 0) * scale
    }

    func json(digits: Int) -> String {
        "{\"p50\":\(Format.fixed(p50, digits: digits)),\"p99\":\(Format.fixed(p99, digits: digits)),\"p99.9\":\(Format.fixed(p999, digits: digits)),\"max\":\(Format.fixed(max, digits: digits)),\"samples\":\(count)}"
    }
}

/// The result lines: `label   value unit`, labels left-aligned, values right-aligned.
struct BenchReport {
    private var rows: [(label: String, value: String, unit: String)] = []

    mutating func add(_ label: String, _ value: String, _ unit: String = "") {
        rows.append((label, value, unit))
    }

    /// `2.1 MiB` with the number in the value column.
    mutating func addBytes(_ label: String, _ count: Int64) {
        let text = Format.bytes(count)
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        add(label, parts[0], parts.count > 1 ? parts[1] : "")
    }

    mutating func addLatencies(_ prefix: String, _ percentiles: BenchPercentiles, unit: String, digits: Int, note: String) {
        add("\(prefix) p50", Format.fixed(percentiles.p50, digits: digits), "\(unit)  (\(note))")
        add("\(prefix) p99", Format.fixed(percentiles.p99, digits: digits), unit)
        add("\(prefix) p99.9", Format.fixed(percentiles.p999, digits: digits), unit)
        add("\(prefix) max", Format.fixed(percentiles.max, digits: digits), unit)
    }

    func render() -> String {
        let labelWidth = rows.map(\.label.count).max() ?? 0
        let valueWidth = rows.map(\.value.count).max() ?? 0
        return rows.map { row in
            "  " + row.label + String(repeating: " ", count: labelWidth - row.label.count) + "  "
                + String(repeating: " ", count: valueWidth - row.value.count) + row.value
                + (row.unit.isEmpty ? "" : " " + row.unit)
        }.joined(separator: "\n")
    }
}
