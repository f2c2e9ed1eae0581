import StreamStore

/// The headers request-reply and sagas add to the well-known ones of ``/StreamStoreFormat/HeaderName``.
extension HeaderName {
    /// The topic a command's reply goes to (request-reply).
    public static let replyTo: HeaderName = "reply-to"
    /// When a command stops being worth handling, in milliseconds since the Unix epoch, in
    /// decimal: a responder skips a command whose deadline passed, and a reply appended after it
    /// is late (its requester drops it). Replies carry their command's deadline.
    public static let deadline: HeaderName = "deadline"
    /// `ok` or `error`: whether the responder's handler succeeded. An `error` reply's value is
    /// the handler's error, as text.
    public static let replyStatus: HeaderName = "reply-status"
    /// On a saga's commands and their replies: which step and which side of it
    /// (`STEP:action:ATTEMPT` or `STEP:compensation:ATTEMPT`), so the process manager matches a
    /// reply to what it is waiting for.
    public static let sagaStep: HeaderName = "saga-step"
    /// On a saga topic's events: the saga definition's name.
    public static let sagaName: HeaderName = "saga-name"
}

extension HeaderCarrying {
    /// The `reply-to` header as text, or nil.
    public var replyTo: String? { headerString(.replyTo) }

    /// The `deadline` header as milliseconds since the epoch, or nil when absent or not a
    /// decimal number.
    public var deadlineMilliseconds: Int64? { headerString(.deadline).flatMap { Int64($0) } }

    /// The `reply-status` header: true for `ok`, false for `error`, nil when absent.
    public var replySucceeded: Bool? {
        switch headerString(.replyStatus) {
        case "ok": true
        case "error": false
        default: nil
        }
    }
}

/// How reply ids derive from command ids.
enum ReplyIdentity {
    /// The message id of the reply to the command whose message id is `commandID`: the same for
    /// every attempt at answering it, so the reply topic's de-duplication window drops a second
    /// reply from a responder that handled the command again after a crash.
    static func messageID(forCommand commandID: String) -> String { commandID + "/reply" }
}
