/// One header of a record: a UTF-8 key and optional bytes, as in Kafka.
public struct RecordHeader: Sendable, Hashable {
    /// The header's name; ``HeaderName`` has the well-known ones.
    public var key: String
    /// The header's bytes, or nil for a null value.
    public var value: [UInt8]?

    /// A header with bytes as its value (nil for a null value).
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header with UTF-8 text as its value.
    public init(key: String, value: String) {
        self.key = key
        self.value = Array(value.utf8)
    }

    /// The value as UTF-8 text, when it is valid UTF-8.
    public var stringValue: String? {
        guard let value else { return nil }
        return String(validating: value, as: UTF8.self)
    }
}

/// A record to append: optional key, optional value (a null value is Kafka's tombstone),
/// ordered headers, and an optional timestamp.
///
/// Leave `timestamp` nil to let the store stamp the append time (the default, and the only
/// choice that keeps retention safe from a producer's bad clock). A caller timestamp is
/// accepted when it is at most the topic's `maxTimestampSkewMilliseconds` in the future.
public struct Record: Sendable, Hashable {
    /// The key, or nil for none: Kafka's partitioner places records by it, and records without
    /// one go round-robin.
    public var key: [UInt8]?
    /// The value, or nil for a null value (a tombstone in Kafka's terms).
    public var value: [UInt8]?
    /// The headers, in order; several may have the same key.
    public var headers: [RecordHeader]
    /// Milliseconds since the Unix epoch, or nil for append time.
    public var timestamp: Int64?

    /// A record with byte key and value; `timestamp` nil means append time.
    public init(key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// A record with UTF-8 key and value.
    public init(key: String? = nil, value: String, headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.key = key.map { Array($0.utf8) }
        self.value = Array(value.utf8)
        self.headers = headers
        self.timestamp = timestamp
    }
}
