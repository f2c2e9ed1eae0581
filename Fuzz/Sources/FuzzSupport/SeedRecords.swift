import StreamStore

/// The records the seed stores and seed logs hold: order events with keys, JSON values and
/// headers, a null key, a tombstone, binary bytes, and create times that go back and forth
/// (the time index keeps a running maximum), all fixed so builds are repeatable.
public enum SeedRecords {
    /// 2025-11-29T10:00:00Z: in the past, so no skew limit ever rejects it.
    public static let baseTimestamp: Int64 = 1_764_410_400_000

    /// `count` batches of 1 to 3 records each.
    public static func batches(count: Int, firstOrder: Int = 1) -> [[Record]] {
        (0..<count).map { index in
            let order = firstOrder + index
            var records: [Record] = []
            for step in 0..<(1 + index % 3) {
                let timestamp = baseTimestamp + Int64(index * 1000) + Int64(step * 7) - (index % 4 == 3 ? 2500 : 0)
                records.append(record(order: order, step: step, timestamp: timestamp))
            }
            return records
        }
    }

    static func record(order: Int, step: Int, timestamp: Int64) -> Record {
        let kinds = ["order-placed", "order-paid", "order-shipped"]
        let json = #"{"type":"\#(kinds[step % 3])","orderId":"o-\#(order)","amount":\#(order * 37 % 1000)}"#
        switch (order + step) % 7 {
        case 3:
            return Record(key: nil, value: Array(json.utf8), headers: [RecordHeader(key: "event-type", value: kinds[step % 3])], timestamp: timestamp)
        case 5:
            return Record(key: Array("customer-\(order % 5)".utf8), value: nil, headers: [], timestamp: timestamp)
        case 6:
            let binary = (0..<24).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ order) }
            return Record(
                key: [0x00, 0xFF, UInt8(truncatingIfNeeded: order)], value: binary,
                headers: [RecordHeader(key: "content-type", value: "application/octet-stream"), RecordHeader(key: "empty", value: nil)],
                timestamp: timestamp)
        default:
            return Record(
                key: Array("customer-\(order % 5)".utf8), value: Array(json.utf8),
                headers: [RecordHeader(key: "correlation-id", value: "c-\(order)"), RecordHeader(key: "message-id", value: "m-\(order)-\(step)")],
                timestamp: timestamp)
        }
    }
}
