import StreamStore

/// What request-reply and sagas throw: a code to switch on, a sentence, and the store's error
/// underneath when the store refused something.
public struct MessagingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for code to switch on. The raw values are stable.
    public enum Code: String, Sendable, Equatable {
        /// No reply came before the request's deadline.
        case timeout
        /// The waiting task was cancelled.
        case cancelled
        /// The responder's handler failed; the message is its error, as the reply carried it.
        case remoteFailure
        /// A request with this correlation id is already waiting for its reply.
        case duplicateRequest
        /// A record that cannot be handled as a command or a reply (no `reply-to`, a reply topic
        /// that does not exist, a saga reply without the `saga-step` header); the message says which.
        case invalidMessage
        /// A saga definition or an option out of its range; the message says which.
        case invalidDefinition
        /// No saga instance has this id.
        case unknownSaga
        /// The requester, responder or process manager was closed.
        case closed
        /// The store refused an operation: see ``MessagingError/underlying``.
        case store
    }

    /// What went wrong.
    public var code: Code
    /// A full sentence: what happened and what to do.
    public var message: String
    /// The request's or saga's correlation id, when there is one.
    public var correlationID: String?
    /// The store's error, for ``Code/store``.
    public var underlying: StreamStoreError?

    /// An error with its code, message and correlation id.
    public init(_ code: Code, _ message: String, correlationID: String? = nil, underlying: StreamStoreError? = nil) {
        self.code = code
        self.message = message
        self.correlationID = correlationID
        self.underlying = underlying
    }

    /// The store's error wrapped, keeping its message.
    init(_ error: StreamStoreError, correlationID: String? = nil) {
        self.init(.store, error.description, correlationID: correlationID, underlying: error)
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}

/// Runs `body`, turning a store error into a ``MessagingError``.
func storeCall<T>(correlationID: String? = nil, _ body: () async throws(StreamStoreError) -> T) async throws(MessagingError) -> T {
    do {
        return try await body()
    } catch {
        throw MessagingError(error, correlationID: correlationID)
    }
}

/// ``storeCall(correlationID:_:)`` for calls that never suspend.
func storeCallNow<T>(correlationID: String? = nil, _ body: () throws(StreamStoreError) -> T) throws(MessagingError) -> T {
    do {
        return try body()
    } catch {
        throw MessagingError(error, correlationID: correlationID)
    }
}
