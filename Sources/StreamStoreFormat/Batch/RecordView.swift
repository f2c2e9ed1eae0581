/// A record as a batch-level read visits it: its fields read in place from the read buffer,
/// with no allocation and no reference counting.
///
/// A view is handed to a closure (``StoredBatch/forEachRecord(from:_:)``,
/// `RecordReplay.forEachRecord(_:)`) as a borrowed value and is valid only during that call.
/// The type is non-copyable, so the compiler keeps the view itself inside the call: storing it
/// in a variable, a property or a collection, returning it or capturing it in an escaping
/// closure needs a copy or a `consume` of a borrowed value, and neither compiles. To keep a
/// record, copy it: ``StoredRecord/init(copying:)``.
///
/// ``key`` and ``value`` are raw pointers into the read buffer: the compiler does not stop a
/// pointer from escaping, so use them only inside the call. (A non-escapable view with
/// `RawSpan` fields would close that gap too; in Swift 6.3 a type of one's own can only be
/// non-escapable with the experimental `Lifetimes` feature, which this package does not use.)
public struct RecordView: ~Copyable {
    let layout: RecordLayout
    let decoder: RecordDecoder
    /// The partition the record was read from.
    public let partition: Int

    init(layout: RecordLayout, decoder: RecordDecoder, partition: Int) {
        self.layout = layout
        self.decoder = decoder
        self.partition = partition
    }

    /// The record's offset.
    public var offset: Int64 { layout.offset }
    /// Milliseconds since the Unix epoch: the append time, or the producer's create time.
    public var timestamp: Int64 { layout.timestamp }
    /// The key bytes, or nil for a null key; valid only during the call that handed out the view.
    public var key: UnsafeRawBufferPointer? { layout.key.map { UnsafeRawBufferPointer(rebasing: decoder.buffer[$0]) } }
    /// The value bytes, or nil for a null value; valid only during the call that handed out the view.
    public var value: UnsafeRawBufferPointer? { layout.value.map { UnsafeRawBufferPointer(rebasing: decoder.buffer[$0]) } }
    /// How many headers the record has, known without decoding them.
    public var headerCount: Int { layout.headerCount }
    /// Decodes the headers (allocates; call only when needed).
    public var headers: [RecordHeader] { decoder.headers(of: layout) }

    /// The value of the first header named `key`, without allocating: nil when the record has
    /// no such header, `.some(nil)` when its value is null. Valid only during the call.
    public func headerValue(forKey key: String) -> UnsafeRawBufferPointer?? {
        guard layout.headerCount > 0 else { return nil }
        var name = key
        return name.withUTF8 { wanted in decoder.headerValue(of: layout, forKey: UnsafeRawBufferPointer(wanted)) }
    }
}

extension StoredRecord {
    /// A copy of the record `view` shows, to keep past the call that handed out the view: its key,
    /// value and encoded headers are copied into bytes of its own, so the record holds on to
    /// nothing of the read (a record of a replay's iterator instead shares the read's buffer).
    public init(copying view: borrowing RecordView) {
        let layout = view.layout
        let source = view.decoder.buffer
        var storage: [UInt8] = []
        storage.reserveCapacity((layout.key?.count ?? 0) + (layout.value?.count ?? 0) + layout.headers.count)
        func copy(_ range: Range<Int>?) -> Range<Int>? {
            guard let range else { return nil }
            let start = storage.count
            storage.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[range]))
            return start..<storage.count
        }
        let key = copy(layout.key), value = copy(layout.value)
        let headers = copy(layout.headers) ?? storage.count..<storage.count
        let copied = RecordLayout(offset: layout.offset, timestamp: layout.timestamp, key: key, value: value, headers: headers, headerCount: layout.headerCount)
        self.init(partition: view.partition, layout: copied, storage: storage)
    }
}
