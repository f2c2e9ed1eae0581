import Foundation

/// An event an application appends and reads as a Swift value: a `Codable` type with the name
/// and the schema version its records carry in their `event-type` and `schema-version` headers.
///
/// ```swift
/// struct OrderPlaced: VersionedEvent {
///     static let eventType = "order-placed"
///     static let schemaVersion = 2          // version 1 had `amount` in cents as a string
///     var orderID: String
///     var totalCents: Int
/// }
/// try await orders.append(OrderPlaced(orderID: "o-1", totalCents: 1250), key: "o-1")
/// ```
///
/// Adding an optional field is not a new version: old events decode with it nil. Removing,
/// renaming or retyping a field, or making one required, is: bump ``schemaVersion`` and register
/// an upcaster from the old version (``EventDecoder/addUpcaster(for:from:_:)``), so readers turn
/// the old events into the new shape as they read them.
public protocol VersionedEvent: Codable, Sendable {
    /// What happened, such as `order-placed`: the `event-type` header of the event's records.
    static var eventType: String { get }
    /// The version of the shape this type encodes and decodes, from 1: the `schema-version`
    /// header of the records it writes. Default 1.
    static var schemaVersion: Int { get }
}

extension VersionedEvent {
    /// Version 1, for events whose shape never changed.
    public static var schemaVersion: Int { 1 }
}

extension Record {
    /// A record holding `event` as JSON, with the `event-type`, `schema-version` and
    /// `content-type` (`application/json`) headers set from the event's type (replacing any of
    /// those three in `headers`).
    ///
    /// - Throws: `.eventEncodingFailed` when `encoder` fails (a non-finite number, say), and
    ///   `.invalidArgument` when the type's ``VersionedEvent/schemaVersion`` is below 1.
    public init<E: VersionedEvent>(
        event: E, key: String? = nil, headers: [RecordHeader] = [], timestamp: Int64? = nil, encoder: JSONEncoder = JSONEncoder()
    ) throws(StreamStoreError) {
        guard SchemaVersion.isValid(E.schemaVersion) else {
            throw StreamStoreError(
                .invalidArgument, "\(E.self).schemaVersion is \(E.schemaVersion); versions are 1 to \(SchemaVersion.maximum).")
        }
        let json: Data
        do {
            json = try encoder.encode(event)
        } catch {
            throw StreamStoreError(.eventEncodingFailed, "A \"\(quoted(E.eventType))\" event could not be encoded as JSON: \(error).")
        }
        self.init(key: key.map { Array($0.utf8) }, value: Array(json), headers: headers, timestamp: timestamp)
        setHeader(.eventType, E.eventType)
        setHeader(.schemaVersion, String(E.schemaVersion))
        setHeader(.contentType, "application/json")
    }
}

extension Topic {
    /// Appends one event as JSON with its `event-type`, `schema-version` and `content-type`
    /// headers (`Record(event:key:headers:timestamp:encoder:)`), to the
    /// partition of `key` (round-robin without one). Durable when the topic's flush policy says.
    ///
    /// ```swift
    /// let receipt = try await orders.append(OrderPlaced(orderID: "o-1", totalCents: 1250), key: "o-1")
    /// ```
    public func append<E: VersionedEvent>(_ event: E, key: String? = nil, headers: [RecordHeader] = []) async throws(StreamStoreError) -> AppendReceipt {
        let record = try Record(event: event, key: key, headers: headers)
        guard let receipt = try await append([record]).first else {
            throw StreamStoreError(.emptyBatch, "The append of one \"\(quoted(E.eventType))\" event returned no receipt.", topic: name)
        }
        return receipt
    }
}
