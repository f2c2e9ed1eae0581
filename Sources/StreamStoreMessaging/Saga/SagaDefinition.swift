import StreamStore

/// A business process across services, as named steps: each an action command sent to a
/// participant's topic and the compensation command that undoes it, with a deadline per step
/// (docs/MESSAGING.md, "Sagas"). A ``SagaManager`` runs its instances.
///
/// ```swift
/// let order = try SagaDefinition(name: "order", steps: [
///     SagaStep(name: "reserve-stock", topic: "stock", action: "reserve-stock", compensation: "release-stock", timeoutMilliseconds: 5_000),
///     SagaStep(name: "charge-payment", topic: "payments", action: "charge-payment", compensation: "refund-payment", timeoutMilliseconds: 5_000),
///     SagaStep(name: "ship", topic: "shipping", action: "ship-order", timeoutMilliseconds: 10_000),
/// ])
/// ```
public struct SagaDefinition: Sendable, Equatable {
    /// Names the saga's topics: its events go to `<name>.sagas`, its participants' replies to
    /// `<name>.saga-replies` (a-z A-Z 0-9 . _ -).
    public var name: String
    /// The steps, run in order.
    public var steps: [SagaStep]
    /// How often a compensation is tried (each a new command with a new deadline) before the
    /// saga is given up as ``SagaStatus/failed``, for a person to look at.
    public var compensationAttempts: Int

    /// A definition, checked: 1 to `Limits.maxSagaSteps` steps with distinct names, positive
    /// timeouts, valid topic names, at least one compensation attempt.
    public init(name: String, steps: [SagaStep], compensationAttempts: Int = 3) throws(MessagingError) {
        self.name = name
        self.steps = steps
        self.compensationAttempts = compensationAttempts
        try validate()
    }

    /// The topic the saga's events go to.
    public var sagaTopic: String { Self.topicName(forSaga: name) }
    /// The topic the participants' replies come to.
    public var replyTopic: String { name + ".saga-replies" }

    /// The saga topic of the saga called `name`.
    public static func topicName(forSaga name: String) -> String { name + sagaTopicSuffix }
    /// How saga topics end, so tools can find them.
    public static let sagaTopicSuffix = ".sagas"

    func validate() throws(MessagingError) {
        func fail(_ message: String) -> MessagingError { MessagingError(.invalidDefinition, message) }
        guard Self.isValidName(name), name.utf8.count + Self.sagaTopicSuffix.utf8.count + 8 <= Limits.maxTopicNameBytes else {
            throw fail("\"\(name)\" is not a valid saga name: use a-z A-Z 0-9 . _ - (it names the saga's topics).")
        }
        guard (1...Limits.maxSagaSteps).contains(steps.count) else { throw fail("A saga has 1 to \(Limits.maxSagaSteps) steps, not \(steps.count).") }
        guard compensationAttempts >= 1 else { throw fail("compensationAttempts must be at least 1, not \(compensationAttempts).") }
        var names: Set<String> = []
        for step in steps {
            guard names.insert(step.name).inserted else { throw fail("Two steps are called \(step.name); step names must differ.") }
            guard step.timeoutMilliseconds > 0 else { throw fail("Step \(step.name) needs a positive timeout, not \(step.timeoutMilliseconds) ms.") }
            guard Self.isValidName(step.topic) else { throw fail("Step \(step.name) names an invalid topic \"\(step.topic)\".") }
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && name.utf8.count <= Limits.maxTopicNameBytes && !name.hasPrefix("__")
            && name.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-")
            }
    }
}

/// One step of a ``SagaDefinition``.
public struct SagaStep: Sendable, Equatable {
    /// The step's name, as histories show it.
    public var name: String
    /// The participant's command topic, where the action and the compensation go.
    public var topic: String
    /// The `event-type` of the action command.
    public var action: String
    /// The `event-type` of the compensation command; nil when the step has nothing to undo.
    public var compensation: String?
    /// How long the participant has to answer the action (and each compensation attempt), in
    /// milliseconds; the commands carry the deadline, so the participant skips them after it.
    public var timeoutMilliseconds: Int64

    /// A step; see the properties.
    public init(name: String, topic: String, action: String, compensation: String? = nil, timeoutMilliseconds: Int64) {
        self.name = name
        self.topic = topic
        self.action = action
        self.compensation = compensation
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}
