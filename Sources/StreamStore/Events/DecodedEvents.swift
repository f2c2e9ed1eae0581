/// An event decoded from a record, with the record it came from (for its offset, headers and
/// the consumer commit).
public struct DecodedEvent: Sendable {
    /// The record as read: partition, offset, timestamp, key, headers and the JSON as written.
    public var record: StoredRecord
    /// The event at its Swift type's current version; cast it to the type (`as? OrderPlaced`).
    public var event: any VersionedEvent
}

extension AsyncSequence where Element == StoredRecord, Failure == StreamStoreError {
    /// The records' events, decoded by `decoder` at the current version of their types (old
    /// ones upcast): a replay, or a consumer's records, as events.
    ///
    /// ```swift
    /// for try await decoded in orders.replay().events(events) {
    ///     if let placed = decoded.event as? OrderPlaced { print(decoded.record.offset, placed.orderID) }
    /// }
    /// ```
    /// Records of event types the decoder does not know, records without an `event-type`, and
    /// newer events its policy skips are passed by. A decoding error ends the sequence with that
    /// error (``EventDecoder/decode(_:from:)`` lists them).
    public func events(_ decoder: EventDecoder) -> DecodedEvents<Self> {
        DecodedEvents(base: self, decoder: decoder)
    }
}

/// The events of a sequence of records, from `events(_:)` on a replay or a consumer's records.
public struct DecodedEvents<Base: AsyncSequence>: AsyncSequence where Base.Element == StoredRecord, Base.Failure == StreamStoreError {
    /// Each element is an event with its record.
    public typealias Element = DecodedEvent
    /// Reads and decoding fail with the store's error type.
    public typealias Failure = StreamStoreError

    let base: Base
    let decoder: EventDecoder

    /// An iterator over the base sequence's records.
    public func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), decoder: decoder)
    }

    /// Reads records until one decodes into an event this decoder knows.
    public struct Iterator: AsyncIteratorProtocol {
        /// Each element is an event with its record.
        public typealias Element = DecodedEvent
        /// Reads and decoding fail with the store's error type.
        public typealias Failure = StreamStoreError

        var base: Base.AsyncIterator
        let decoder: EventDecoder

        /// The next event; nil when the records end.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(StreamStoreError) -> DecodedEvent? {
            while let record = try await base.next(isolation: actor) {
                if let event = try decoder.decode(record) { return DecodedEvent(record: record, event: event) }
            }
            return nil
        }

        /// The next event, as ``next(isolation:)``.
        public mutating func next() async throws(StreamStoreError) -> DecodedEvent? {
            try await next(isolation: nil)
        }
    }
}

extension DecodedEvents: Sendable where Base: Sendable {}
