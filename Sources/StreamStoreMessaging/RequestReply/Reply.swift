import StreamStore

/// What a ``Responder``'s handler answers a command with: the reply's value and any headers of
/// its own. The responder adds the correlation, causation, message id, deadline and status.
public struct Reply: Sendable, Equatable {
    /// The reply's value (nil for none).
    public var value: [UInt8]?
    /// Headers of the handler's own (an `event-type`, say).
    public var headers: [RecordHeader]

    /// A reply with bytes as its value.
    public init(value: [UInt8]?, headers: [RecordHeader] = []) {
        self.value = value
        self.headers = headers
    }

    /// A reply with UTF-8 text as its value, and an `event-type` when given.
    public init(_ value: String, eventType: String? = nil, headers: [RecordHeader] = []) {
        self.value = Array(value.utf8)
        self.headers = headers
        if let eventType { self.headers.append(RecordHeader(.eventType, eventType)) }
    }
}

/// What a ``Responder`` did with one command, as it tells its `onEvent` observer.
public enum ResponderEvent: Sendable {
    /// The reply is durable in `replyTopic` at `offset` (the original's place when it was a
    /// duplicate of an earlier reply); `succeeded` is false when the handler failed and the
    /// reply carries its error.
    case replied(command: StoredRecord, replyTopic: String, offset: RecordOffset, succeeded: Bool)
    /// The command's deadline had passed when its turn came: not handled, no reply, committed.
    case expired(command: StoredRecord, deadlineMilliseconds: Int64)
    /// The command cannot be answered (no `reply-to`, no `message-id`, an unknown reply topic):
    /// not handled, committed; `reason` says why.
    case invalid(command: StoredRecord, reason: String)
}
