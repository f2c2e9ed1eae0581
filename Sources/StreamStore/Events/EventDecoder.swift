import Foundation

/// Decodes records into ``VersionedEvent`` values at the version the reader's types know,
/// upcasting older events on the way.
///
/// An application registers its event types and, for each breaking change it made, an upcaster
/// from the old version to the next: a function that changes the old event's JSON into the new
/// shape. Reading an event of version n when the type is at version n+k runs the upcasters
/// n → n+1 → … → n+k and decodes the result; an event already at the type's version decodes
/// directly, with no upcasting cost.
///
/// ```swift
/// var events = EventDecoder()
/// events.addUpcaster(for: OrderPlaced.self, from: 1) { json in
///     // Version 1 had "amount" as a string of cents; version 2 has "totalCents", a number.
///     json["totalCents"] = json["amount"]?.stringValue.flatMap { Int64($0) }.map { .integer($0) }
///     json["amount"] = nil
/// }
/// for try await record in orders.replay() {
///     if let placed = try events.decode(OrderPlaced.self, from: record) { print(placed.totalCents) }
/// }
/// ```
///
/// An event never decodes silently into the wrong shape: one newer than the type (a newer
/// producer wrote it) is `.eventVersionTooNew` unless ``newerVersions`` is ``NewerVersionPolicy/skip``;
/// one older without a chain of upcasters is `.missingUpcaster`; a record of another event type,
/// a `schema-version` that is not a number from 1, a value that is not JSON, an upcaster that
/// throws and JSON the type does not accept are `.eventDecodingFailed`. A record without a
/// `schema-version` header is taken as version 1 (events written before their type had versions).
///
/// The decoder is a value: make it once at start-up and share it between tasks.
public struct EventDecoder: Sendable {
    /// What decoding does with an event whose `schema-version` is newer than its Swift type's.
    public enum NewerVersionPolicy: Sendable, Hashable {
        /// Throw `.eventVersionTooNew`: the reader stops (a consumer's `process` dead-letters the
        /// record at once), so an old reader never loses events it does not understand yet.
        case fail
        /// Skip the event: `decode` returns nil. For readers that may safely ignore what a newer
        /// producer added, such as a dashboard.
        case skip
    }

    /// What to do with events newer than their Swift type. Default ``NewerVersionPolicy/fail``.
    public var newerVersions: NewerVersionPolicy

    private var types: [String: RegisteredType] = [:]
    private var upcasters: [UpcasterKey: Upcaster] = [:]
    private let jsonDecoder: JSONDecoder

    /// A decoder that knows `types` (more with ``register(_:)``).
    ///
    /// - Parameters:
    ///   - types: The event types ``decode(_:)`` decodes; records of other types it passes by.
    ///   - newerVersions: What to do with events newer than their type.
    ///   - jsonDecoder: Decodes the JSON into the Swift types (its date strategy, say, must
    ///     match the encoder the events were written with).
    public init(_ types: [any VersionedEvent.Type] = [], newerVersions: NewerVersionPolicy = .fail, jsonDecoder: JSONDecoder = JSONDecoder()) {
        self.newerVersions = newerVersions
        self.jsonDecoder = jsonDecoder
        for type in types { register(type) }
    }

    /// Adds `type` to the types ``decode(_:)`` knows. Registering a second Swift type under an
    /// event type name already taken is a programming error (a precondition failure).
    public mutating func register(_ type: any VersionedEvent.Type) {
        insert(type)
    }

    private mutating func insert<E: VersionedEvent>(_ type: E.Type) {
        precondition(!E.eventType.isEmpty, "\(E.self).eventType is empty")
        precondition(SchemaVersion.isValid(E.schemaVersion), "\(E.self).schemaVersion \(E.schemaVersion) is not in 1...\(SchemaVersion.maximum)")
        if let known = types[E.eventType] {
            precondition(known.swiftType == ObjectIdentifier(E.self), "event type \(E.eventType) is registered for \(known.name) already, not \(E.self)")
            return
        }
        types[E.eventType] = RegisteredType(
            swiftType: ObjectIdentifier(E.self), name: String(describing: E.self),
            decode: { (decoder, record) throws(StreamStoreError) -> (any VersionedEvent)? in try decoder.decode(E.self, from: record) })
    }

    /// Registers `upcast`, which turns the JSON object of a `type` event of version `version` into
    /// version `version + 1`, and registers `type` (``register(_:)``).
    ///
    /// Upcasters chain: for a type at version 4, events of version 1 pass through the upcasters
    /// from 1, 2 and 3. `version` must be at least 1 and below the type's ``VersionedEvent/schemaVersion``,
    /// and each version may have one upcaster (both are preconditions). An upcaster that throws
    /// makes decoding the event fail with `.eventDecodingFailed`, carrying its error's text.
    public mutating func addUpcaster<E: VersionedEvent>(for type: E.Type, from version: Int, _ upcast: @escaping @Sendable (inout JSONObject) throws -> Void) {
        precondition(version >= 1 && version < E.schemaVersion, "an upcaster of \(E.eventType) from version \(version) cannot lead to version \(E.schemaVersion)")
        let key = UpcasterKey(eventType: E.eventType, fromVersion: version)
        precondition(upcasters[key] == nil, "\(E.eventType) has an upcaster from version \(version) already")
        upcasters[key] = Upcaster(body: upcast)
        register(type)
    }

    /// The event in `record`, decoded as `type` at `type`'s version: upcast first when it is
    /// older, nil when it is newer and ``newerVersions`` is ``NewerVersionPolicy/skip``.
    ///
    /// - Throws: `.eventVersionTooNew`, `.missingUpcaster` or `.eventDecodingFailed` (see
    ///   ``EventDecoder``), with the record's partition and offset.
    public func decode<E: VersionedEvent>(_ type: E.Type, from record: StoredRecord) throws(StreamStoreError) -> E? {
        do throws(StreamStoreError) {
            guard let eventType = record.eventType else {
                throw StreamStoreError(.eventDecodingFailed, "The record has no event-type header; expected \"\(quoted(E.eventType))\".")
            }
            guard eventType == E.eventType else {
                throw StreamStoreError(.eventDecodingFailed, "The record is a \"\(quoted(eventType))\" event, not \"\(quoted(E.eventType))\".")
            }
            let version = try writtenVersion(of: record)
            if version > E.schemaVersion {
                guard newerVersions == .fail else { return nil }
                throw StreamStoreError(
                    .eventVersionTooNew,
                    "The \"\(quoted(E.eventType))\" event has schema-version \(version), newer than \(E.schemaVersion), the newest \(E.self) knows: "
                        + "a newer producer wrote it. Deploy a reader that knows version \(version), or skip newer events (NewerVersionPolicy.skip).")
            }
            guard let value = record.value else {
                throw StreamStoreError(.eventDecodingFailed, "The \"\(quoted(E.eventType))\" event has a null value.")
            }
            if version == E.schemaVersion { return try decodeJSON(E.self, from: Data(value)) }
            guard case .object(var object) = try JSONValue(parsing: value) else {
                throw StreamStoreError(.eventDecodingFailed, "The \"\(quoted(E.eventType))\" event of version \(version) is not a JSON object, so it cannot be upcast.")
            }
            try upcast(&object, eventType: E.eventType, from: version, to: E.schemaVersion)
            var upcast: [UInt8] = []
            upcast.reserveCapacity(value.count + 64)
            try JSONValue.object(object).write(to: &upcast, sortingKeys: false)
            return try decodeJSON(E.self, from: Data(upcast))
        } catch {
            var located = error
            if located.partition == nil { located.partition = record.partition }
            if located.offset == nil { located.offset = record.offset }
            throw located
        }
    }

    /// The event in `record` as whichever registered type its `event-type` names; nil for a
    /// record of a type this decoder does not know (or of no type), and for a newer event skipped
    /// by ``newerVersions``. Errors as ``decode(_:from:)``.
    ///
    /// ```swift
    /// switch try events.decode(record) {
    /// case let placed as OrderPlaced: print("placed", placed.orderID)
    /// case let paid as OrderPaid: print("paid", paid.orderID)
    /// default: break   // another event type
    /// }
    /// ```
    public func decode(_ record: StoredRecord) throws(StreamStoreError) -> (any VersionedEvent)? {
        guard let eventType = record.eventType, let registered = types[eventType] else { return nil }
        return try registered.decode(self, record)
    }

    /// True when ``decode(_:)`` knows `eventType`.
    public func knows(eventType: String) -> Bool {
        types[eventType] != nil
    }

    /// Runs the upcasters of `eventType` from `version` up to `target`.
    func upcast(_ object: inout JSONObject, eventType: String, from version: Int, to target: Int) throws(StreamStoreError) {
        for step in version..<target {
            guard let upcaster = upcasters[UpcasterKey(eventType: eventType, fromVersion: step)] else {
                throw StreamStoreError(
                    .missingUpcaster,
                    "The \"\(quoted(eventType))\" event has schema-version \(version), and no upcaster turns version \(step) into \(step + 1) "
                        + "on the way to \(target): register one with EventDecoder.addUpcaster(for:from:).")
            }
            do {
                try upcaster.body(&object)
            } catch {
                throw StreamStoreError(.eventDecodingFailed, "The upcaster of \"\(quoted(eventType))\" from version \(step) failed: \(error)")
            }
        }
    }

    /// The record's `schema-version`: 1 when it has none.
    private func writtenVersion(of record: StoredRecord) throws(StreamStoreError) -> Int {
        guard let header = record.header(HeaderName.schemaVersion.rawValue) else { return 1 }
        guard let bytes = header.value, let version = SchemaVersion.parse(bytes) else {
            let text = header.stringValue.map { "\"\(quoted($0))\"" } ?? "not text"
            throw StreamStoreError(.eventDecodingFailed, "The record's schema-version header is \(text), not a version number from 1.")
        }
        return version
    }

    private func decodeJSON<E: VersionedEvent>(_ type: E.Type, from json: Data) throws(StreamStoreError) -> E {
        do {
            return try jsonDecoder.decode(E.self, from: json)
        } catch {
            throw StreamStoreError(.eventDecodingFailed, "The \"\(quoted(E.eventType))\" event does not decode as \(E.self) version \(E.schemaVersion): \(error)")
        }
    }
}

extension EventDecoder {
    /// A type ``EventDecoder/decode(_:)`` knows, with the decoding that keeps its Swift type.
    fileprivate struct RegisteredType: Sendable {
        var swiftType: ObjectIdentifier
        var name: String
        var decode: @Sendable (EventDecoder, StoredRecord) throws(StreamStoreError) -> (any VersionedEvent)?
    }

    fileprivate struct UpcasterKey: Hashable, Sendable {
        var eventType: String
        var fromVersion: Int
    }

    fileprivate struct Upcaster: Sendable {
        var body: @Sendable (inout JSONObject) throws -> Void
    }
}

extension StreamStoreError {
    /// True for the errors of decoding an event: retrying the same record cannot help.
    var isEventDecodingFailure: Bool {
        switch code {
        case .eventVersionTooNew, .missingUpcaster, .eventDecodingFailed: return true
        default: return false
        }
    }
}
