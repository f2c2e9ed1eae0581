/// A record read back from a partition.
///
/// A record holds one reference: to the buffer its read filled (shared by every record of that
/// read), with the places of its key, value and headers in it. Reading a record copies no key
/// or value and allocates nothing; its headers stay encoded until they are asked for
/// (``headers`` decodes them all, ``header(_:)`` finds one without decoding the others). Keep a
/// record as long as you like: the buffer lives as long as any record or slice of it.
///
/// Changing ``key``, ``value`` or ``headers`` gives the record bytes of its own (a copy of its
/// fields); records are read far more often than they are changed.
public struct StoredRecord: Sendable {
    /// The partition the record was read from.
    public var partition: Int
    /// The record's offset in its partition.
    public var offset: Int64
    /// Milliseconds since the Unix epoch: the append time, or the producer's create time.
    public var timestamp: Int64
    /// The bytes holding the key, the value and the encoded headers: a read buffer, or the
    /// record's own.
    @usableFromInline let storage: [UInt8]
    /// Where the key and the value lie in `storage`: `lowerBound` is -1 for a null one.
    @usableFromInline let keyBounds: Bounds
    @usableFromInline let valueBounds: Bounds
    /// Where the headers lie in `storage`, in the record format's encoding (docs/FORMAT.md,
    /// "Record"), and how many there are.
    let headerBounds: Bounds
    /// How many headers the record has, known without decoding them.
    public let headerCount: Int

    /// A byte range of `storage`, or a null field (`lower` -1). Two plain integers: no optional
    /// padding, nothing to retain.
    @usableFromInline
    struct Bounds: Sendable {
        @usableFromInline let lower: Int
        @usableFromInline let upper: Int

        @inlinable init(lower: Int, upper: Int) {
            self.lower = lower
            self.upper = upper
        }

        init(_ range: Range<Int>?) {
            (lower, upper) = range.map { ($0.lowerBound, $0.upperBound) } ?? (-1, -1)
        }

        static let null = Bounds(lower: -1, upper: -1)
        var range: Range<Int> { lower..<upper }
    }

    /// A record whose fields lie in `storage` where `layout` says (a read's decoder made it).
    @inline(__always)
    package init(partition: Int, layout: RecordLayout, storage: [UInt8]) {
        self.partition = partition
        offset = layout.offset
        timestamp = layout.timestamp
        self.storage = storage
        keyBounds = Bounds(layout.key)
        valueBounds = Bounds(layout.value)
        headerBounds = Bounds(layout.headers)
        headerCount = layout.headerCount
    }

    /// A record as a read returns it; for tests and tools that make records of their own. The
    /// key, value and headers are copied into bytes of the record's own.
    public init(partition: Int = 0, offset: Int64, timestamp: Int64, key: ArraySlice<UInt8>?, value: ArraySlice<UInt8>?, headers: [RecordHeader]) {
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        var storage: [UInt8] = []
        storage.reserveCapacity((key?.count ?? 0) + (value?.count ?? 0) + Self.encodedBytes(of: headers))
        keyBounds = Self.append(key, to: &storage)
        valueBounds = Self.append(value, to: &storage)
        let headersStart = storage.count
        for header in headers {
            Self.appendVarint(Int64(header.key.utf8.count), to: &storage)
            storage.append(contentsOf: header.key.utf8)
            if let value = header.value {
                Self.appendVarint(Int64(value.count), to: &storage)
                storage.append(contentsOf: value)
            } else {
                Self.appendVarint(-1, to: &storage)
            }
        }
        headerBounds = Bounds(lower: headersStart, upper: storage.count)
        headerCount = headers.count
        self.storage = storage
    }

    /// The key, a slice of the read buffer, or nil for a null key.
    @inlinable
    public var key: ArraySlice<UInt8>? {
        get { keyBounds.lower < 0 ? nil : storage[keyBounds.lower..<keyBounds.upper] }
        set { self = StoredRecord(partition: partition, offset: offset, timestamp: timestamp, key: newValue, value: value, headers: headers) }
    }

    /// The value, a slice of the read buffer, or nil for a null value.
    @inlinable
    public var value: ArraySlice<UInt8>? {
        get { valueBounds.lower < 0 ? nil : storage[valueBounds.lower..<valueBounds.upper] }
        set { self = StoredRecord(partition: partition, offset: offset, timestamp: timestamp, key: key, value: newValue, headers: headers) }
    }

    /// The headers, in the order they were written; decoded from the record's bytes at each
    /// call (to look for one, ``header(_:)`` is cheaper).
    public var headers: [RecordHeader] {
        get {
            guard headerCount > 0 else { return [] }
            return storage.withUnsafeBytes { RecordDecoder.headers(in: $0, at: headerBounds.range, count: headerCount) }
        }
        set { self = StoredRecord(partition: partition, offset: offset, timestamp: timestamp, key: key, value: value, headers: newValue) }
    }

    /// The first header with this key, if any, found without decoding the others.
    public func header(_ key: String) -> RecordHeader? {
        guard headerCount > 0 else { return nil }
        var name = key
        let found: [UInt8]?? = name.withUTF8 { wanted in
            storage.withUnsafeBytes { raw in
                RecordDecoder.headerValue(in: raw, at: headerBounds.range, count: headerCount, forKey: UnsafeRawBufferPointer(wanted))
                    .map { value in value.map { Array($0) } }
            }
        }
        guard case .some(let value) = found else { return nil }
        return RecordHeader(key: key, value: value)
    }

    /// The value as UTF-8 text (invalid sequences replaced), or nil for a null value.
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }

    /// The key as UTF-8 text (invalid sequences replaced), or nil for a null key.
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }

    // MARK: Encoding a record's own bytes

    private static func append(_ bytes: ArraySlice<UInt8>?, to storage: inout [UInt8]) -> Bounds {
        guard let bytes else { return .null }
        let start = storage.count
        storage.append(contentsOf: bytes)
        return Bounds(lower: start, upper: storage.count)
    }

    private static func appendVarint(_ value: Int64, to storage: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: 10, alignment: 1) { scratch in
            guard let base = scratch.baseAddress else { return }
            let written = Varint.write(value, to: base)
            storage.append(contentsOf: UnsafeRawBufferPointer(start: base, count: written))
        }
    }

    private static func encodedBytes(of headers: [RecordHeader]) -> Int {
        headers.reduce(0) { total, header in
            let valueBytes = header.value.map { Varint.size(Int64($0.count)) + $0.count } ?? 1
            return total + Varint.size(Int64(header.key.utf8.count)) + header.key.utf8.count + valueBytes
        }
    }
}

extension StoredRecord: Hashable {
    /// Records are equal when every field is: where their bytes live does not matter.
    public static func == (lhs: StoredRecord, rhs: StoredRecord) -> Bool {
        lhs.partition == rhs.partition && lhs.offset == rhs.offset && lhs.timestamp == rhs.timestamp
            && lhs.key == rhs.key && lhs.value == rhs.value && lhs.headerCount == rhs.headerCount && lhs.headers == rhs.headers
    }

    /// Hashes the fields ``==`` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(partition)
        hasher.combine(offset)
        hasher.combine(timestamp)
        hasher.combine(key)
        hasher.combine(value)
        hasher.combine(headers)
    }
}
