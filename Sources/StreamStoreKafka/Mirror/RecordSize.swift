import StreamStoreFormat

/// What a record's key, value and headers weigh, for batch limits and MB/s figures.
enum RecordSize {
    static func payloadBytes(key: Int?, value: Int?, headers: [RecordHeader]) -> Int {
        var total: Int = key ?? 0
        total += value ?? 0
        for header in headers {
            total += header.key.utf8.count
            total += header.value?.count ?? 0
        }
        return total
    }
}
