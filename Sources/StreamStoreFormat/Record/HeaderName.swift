import Foundation

/// The name of a header with an agreed meaning. Header keys are plain strings
/// on disk, so these are conventions, readable by any Kafka client.
public struct HeaderName: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The header key as written on disk, such as `message-id`.
    public var rawValue: String

    /// The name whose key is `rawValue`.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The name whose key is the literal, so `let tenant: HeaderName = "tenant-id"` works.
    public init(stringLiteral value: String) { rawValue = value }

    /// The header key, as ``rawValue``.
    public var description: String { rawValue }

    /// Unique per logical message, stable across retries: the key of producer de-duplication
    /// (`TopicConfig.dedupeWindowMilliseconds`) and of idempotent consumers.
    public static let messageID: HeaderName = "message-id"
    /// Shared by every message of one business flow (an order, a request), so its path through
    /// topics and groups can be traced (`Store.trace(correlationID:topics:)`).
    public static let correlationID: HeaderName = "correlation-id"
    /// The message id of the message whose handling produced this one.
    public static let causationID: HeaderName = "causation-id"
    /// What happened, e.g. `order-placed`.
    public static let eventType: HeaderName = "event-type"
    /// The version of the value's schema, so consumers can upcast old events.
    public static let schemaVersion: HeaderName = "schema-version"
    /// The value's media type, e.g. `application/json`.
    public static let contentType: HeaderName = "content-type"
    /// How many times the record was redriven from its topic's dead-letter topic back into the
    /// topic (`Store.redriveDeadLetters(topic:group:limit:dryRun:filter:)`), in decimal; absent
    /// on a record that never was. A de-duplicated topic tells redrives of one message apart by
    /// it (`TopicConfig.dedupeWindowMilliseconds`).
    public static let redriveCount: HeaderName = "redrive-count"
}

extension RecordHeader {
    /// A header with a well-known name and a UTF-8 value.
    public init(_ name: HeaderName, _ value: String) {
        self.init(key: name.rawValue, value: value)
    }
}

/// Typed access to the well-known headers of anything that carries headers.
public protocol HeaderCarrying {
    /// Every header, in order.
    var headers: [RecordHeader] { get }
    /// The first header named `key`, if any.
    func header(_ key: String) -> RecordHeader?
}

extension HeaderCarrying {
    /// The first header named `key`, if any (a carrier that can find one without making all of
    /// them, as ``StoredRecord`` can, has its own).
    public func header(_ key: String) -> RecordHeader? {
        headers.first { $0.key == key }
    }

    /// The first header named `name` as UTF-8 text, or nil when absent, null or not UTF-8.
    public func headerString(_ name: HeaderName) -> String? {
        header(name.rawValue)?.stringValue
    }

    /// The `message-id` header as text, or nil.
    public var messageID: String? { headerString(.messageID) }
    /// The `correlation-id` header as text, or nil.
    public var correlationID: String? { headerString(.correlationID) }
    /// The `causation-id` header as text, or nil.
    public var causationID: String? { headerString(.causationID) }
    /// The `event-type` header as text, or nil.
    public var eventType: String? { headerString(.eventType) }
    /// The `schema-version` header as text, or nil.
    public var schemaVersion: String? { headerString(.schemaVersion) }
    /// The `content-type` header as text, or nil.
    public var contentType: String? { headerString(.contentType) }
    /// The `redrive-count` header as a number: 0 when absent or not a canonical decimal.
    public var redriveCount: Int { HeaderName.redriveCount(header(HeaderName.redriveCount.rawValue)?.value) ?? 0 }
}

extension HeaderName {
    /// A `redrive-count` value as a number, when it is a positive decimal without a sign or
    /// leading zeros (what redrive writes); nil otherwise.
    package static func redriveCount(_ bytes: (some Collection<UInt8>)?) -> Int? {
        guard let bytes, (1...18).contains(bytes.count), bytes.first != UInt8(ascii: "0") else { return nil }
        var count = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            count = count * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return count
    }
}

extension Record: HeaderCarrying {}
extension StoredRecord: HeaderCarrying {}

extension Record {
    /// Sets the first header named `name` to `value` (appending one when absent); nil removes
    /// every header of that name.
    public mutating func setHeader(_ name: HeaderName, _ value: String?) {
        guard let value else {
            headers.removeAll { $0.key == name.rawValue }
            return
        }
        if let index = headers.firstIndex(where: { $0.key == name.rawValue }) {
            headers[index].value = Array(value.utf8)
        } else {
            headers.append(RecordHeader(name, value))
        }
    }

    /// A record caused by handling `cause`: it keeps the cause's correlation id (or starts the
    /// flow at the cause's message id when the cause has none), names the cause's message id as
    /// its causation id, and gets a fresh message id unless one is given.
    ///
    /// ```swift
    /// let paid = Record.followUp(to: placed, key: placed.keyString, value: json, eventType: "order-paid")
    /// ```
    public static func followUp(
        to cause: some HeaderCarrying, key: String? = nil, value: String, eventType: String? = nil,
        messageID: String = UUID().uuidString.lowercased(), headers: [RecordHeader] = []
    ) -> Record {
        var record = Record(key: key, value: value, headers: headers)
        record.deriveHeaders(from: cause, messageID: messageID)
        if let eventType { record.setHeader(.eventType, eventType) }
        return record
    }

    /// Sets this record's message, correlation and causation ids as a follow-up of `cause`
    /// (see ``followUp(to:key:value:eventType:messageID:headers:)``).
    public mutating func deriveHeaders(from cause: some HeaderCarrying, messageID: String = UUID().uuidString.lowercased()) {
        setHeader(.messageID, messageID)
        setHeader(.correlationID, cause.correlationID ?? cause.messageID)
        setHeader(.causationID, cause.messageID)
    }
}
