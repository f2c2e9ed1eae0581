import StreamStoreTestSupport

@testable import StreamStoreFormat

/// The model test's random data: batches of records as the store must read them back.
extension StoreModel {
    /// A batch of 1 to 6 records (sometimes up to 31), with null and non-null keys and values
    /// (mostly short, some larger than a segment), headers, and either append time or create
    /// times up to a minute either side of now. Append-time records get `Int64.min` until
    /// their receipt says when they were stamped.
    func randomBatch() throws -> (RecordBatch, [Expected]) {
        var batch = RecordBatch()
        var records: [Expected] = []
        let createTime = random.oneIn(3)
        let now = fixture.clock.nowMilliseconds()
        for _ in 0..<(1 + random.upTo(random.oneIn(6) ? 30 : 5)) {
            let key = random.oneIn(4) ? nil : bytes(upTo: 16)
            let size = random.oneIn(100) ? 5000 : random.oneIn(20) ? 1500 : 60
            let value = random.oneIn(10) ? nil : bytes(upTo: size)
            let headers = (0..<random.upTo(random.oneIn(4) ? 3 : 0)).map { _ in
                RecordHeader(key: ["trace", "type", "ключ", ""][random.upTo(3)], value: random.oneIn(4) ? nil : bytes(upTo: 20))
            }
            let timestamp = createTime ? now + Int64(random.upTo(120_000)) - 60_000 : nil
            try batch.append(key: key, value: value, headers: headers, timestamp: timestamp)
            records.append(Expected(key: key, value: value, headers: headers, timestamp: timestamp ?? Int64.min))
        }
        return (batch, records)
    }

    func bytes(upTo maxCount: Int) -> [UInt8] {
        let count = random.upTo(maxCount)
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            let start = random.upTo(pool.count - 1)
            result += pool[start..<min(pool.count, start + count - result.count)]
        }
        return result
    }
}
