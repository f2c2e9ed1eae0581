/// One header of a record: a UTF-8 key and optional bytes, as in Kafka.
public struct RecordHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

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
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Milliseconds since the Unix epoch, or nil for append time.
    public var timestamp: Int64?

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

/// A record read back from a partition.
///
/// Key and value are slices of the buffer the batch was read into, shared by every record of
/// that read: reading does not copy values. Keep a record as long as you like; the buffer lives
/// as long as any slice of it.
public struct StoredRecord: Sendable, Hashable {
    /// The partition the record was read from.
    public var partition: Int
    public var offset: Int64
    /// Milliseconds since the Unix epoch: the append time, or the producer's create time.
    public var timestamp: Int64
    public var key: ArraySlice<UInt8>?
    public var value: ArraySlice<UInt8>?
    public var headers: [RecordHeader]

    public init(partition: Int = 0, offset: Int64, timestamp: Int64, key: ArraySlice<UInt8>?, value: ArraySlice<UInt8>?, headers: [RecordHeader]) {
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// The first header with this key, if any.
    public func header(_ key: String) -> RecordHeader? {
        headers.first { $0.key == key }
    }

    /// The value as UTF-8 text (invalid sequences replaced), or nil for a null value.
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }

    /// The key as UTF-8 text (invalid sequences replaced), or nil for a null key.
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}
