/// One state change of a saga instance, as the saga topic keeps it: the record's value is this
/// as JSON, its `event-type` header ``Kind`` (docs/MESSAGING.md, "The saga topic").
public struct SagaEvent: Sendable, Equatable, Codable {
    /// What changed.
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// The instance began, with its data.
        case started = "saga-started"
        /// A step's action command went out (`step`, `attempt`, `deadlineMilliseconds`).
        case stepStarted = "saga-step-started"
        /// The participant applied the step's action (`detail`: its reply).
        case stepSucceeded = "saga-step-succeeded"
        /// The participant refused the step's action (`detail`: why); compensation begins.
        case stepFailed = "saga-step-failed"
        /// No answer to the step's action before its deadline; compensation begins with this step.
        case stepTimedOut = "saga-step-timed-out"
        /// A step's compensation command went out (`step`, `attempt`, `deadlineMilliseconds`).
        case compensationStarted = "saga-compensation-started"
        /// The participant undid the step.
        case compensationSucceeded = "saga-compensation-succeeded"
        /// The compensation failed or timed out (`detail`: why); it is tried again or the saga fails.
        case compensationFailed = "saga-compensation-failed"
        /// Every step succeeded.
        case completed = "saga-completed"
        /// A step failed and every step that needed it was undone.
        case compensated = "saga-compensated"
        /// A compensation kept failing: the instance needs a person.
        case failed = "saga-failed"
    }

    /// What changed.
    public var kind: Kind
    /// The step it concerns, when it concerns one.
    public var step: Int?
    /// The attempt of the command it concerns.
    public var attempt: Int?
    /// The deadline of the command that went out, in milliseconds since the epoch.
    public var deadlineMilliseconds: Int64?
    /// The instance's data (``Kind/started``), a reply, or why something failed.
    public var detail: String?
    /// When the manager decided it, in milliseconds since the epoch.
    public var atMilliseconds: Int64

    /// An event; see the properties.
    public init(_ kind: Kind, step: Int? = nil, attempt: Int? = nil, deadlineMilliseconds: Int64? = nil, detail: String? = nil, atMilliseconds: Int64) {
        self.kind = kind
        self.step = step
        self.attempt = attempt
        self.deadlineMilliseconds = deadlineMilliseconds
        self.detail = detail
        self.atMilliseconds = atMilliseconds
    }
}
