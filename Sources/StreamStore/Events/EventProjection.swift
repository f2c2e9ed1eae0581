/// A ``Projection`` that folds events rather than records: each record is decoded by
/// ``events`` at the current version of its type (old ones upcast) before ``apply(_:from:to:)``
/// sees it. Records of event types the decoder does not know are passed by.
///
/// ```swift
/// struct Revenue: EventProjection {
///     let name = "revenue"
///     let events = EventDecoder([OrderPlaced.self])
///     func initialState() -> Int { 0 }
///     func apply(_ event: any VersionedEvent, from record: StoredRecord, to total: inout Int) throws {
///         if let placed = event as? OrderPlaced { total += placed.totalCents }
///     }
/// }
/// let revenue = try await store.rebuild(Revenue(), from: "orders")
/// ```
///
/// A record that does not decode stops the rebuild with the decoder's own error
/// (`.eventVersionTooNew`, `.missingUpcaster`, `.eventDecodingFailed`), naming the topic,
/// partition and offset; an error of `apply` is `.projectionFailed`, as for any projection.
/// Bump ``Projection/version`` when the fold changes meaning; a new upcaster needs no bump when
/// it gives the events the meaning the fold already assumed.
public protocol EventProjection: Projection {
    /// Decodes the records into events.
    var events: EventDecoder { get }
    /// Folds one event into the state; `record` has its offset, timestamp and headers.
    func apply(_ event: any VersionedEvent, from record: StoredRecord, to state: inout State) throws
}

extension EventProjection {
    /// Decodes `record` with ``events`` and folds the event, if the decoder knows its type.
    public func apply(_ record: StoredRecord, to state: inout State) throws {
        guard let event = try events.decode(record) else { return }
        try apply(event, from: record, to: &state)
    }
}
