/// Where a saga instance stands.
public enum SagaStatus: String, Sendable, Equatable, Codable, CaseIterable {
    /// Its steps are under way.
    case running
    /// A step failed or timed out; the steps before it are being undone.
    case compensating
    /// Every step succeeded.
    case completed
    /// A step failed and the steps that needed undoing were undone.
    case compensated
    /// A compensation kept failing: it needs a person.
    case failed

    /// True for the states an instance never leaves.
    public var isFinal: Bool { self == .completed || self == .compensated || self == .failed }
}

/// Which command of a saga instance a reply or a timeout is about: a step, its action or its
/// compensation, and the attempt. Written `STEP:action:ATTEMPT` in the `saga-step` header.
public struct SagaStepRef: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The step's index in the definition.
    public var step: Int
    /// True for the compensation command, false for the action.
    public var isCompensation: Bool
    /// The attempt (from 1).
    public var attempt: Int

    /// A reference; see the properties.
    public init(step: Int, isCompensation: Bool, attempt: Int) {
        self.step = step
        self.isCompensation = isCompensation
        self.attempt = attempt
    }

    /// The `saga-step` header's spelling.
    public var description: String { "\(step):\(isCompensation ? "compensation" : "action"):\(attempt)" }

    /// Reads the `saga-step` header's spelling; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let step = Int(parts[0]), step >= 0, let attempt = Int(parts[2]), attempt >= 1 else { return nil }
        switch parts[1] {
        case "action": isCompensation = false
        case "compensation": isCompensation = true
        default: return nil
        }
        self.step = step
        self.attempt = attempt
    }
}

/// One saga instance's state: the fold of its events (``apply(_:)``), so the same after a
/// restart as before it.
public struct SagaInstance: Sendable, Equatable, Codable {
    /// The instance's id: the correlation id of every command, reply and event of it.
    public var id: String
    /// The instance's data, given at start: the value of its commands.
    public var data: String
    /// Where it stands.
    public var status: SagaStatus
    /// The command it waits for an answer to, if any.
    public var awaiting: SagaStepRef?
    /// When the awaited command's deadline passes, in milliseconds since the epoch.
    public var deadlineMilliseconds: Int64?
    /// Steps whose actions succeeded: `0..<completedSteps`.
    public var completedSteps: Int
    /// The participants' replies to the actions that succeeded, in step order.
    public var results: [String]
    /// Compensating: the highest step that may still need undoing (−1 when none).
    public var compensateFrom: Int
    /// Steps undone, in the order they were.
    public var compensatedSteps: [Int]
    /// Compensation attempts made per step that failed so far.
    public var failedCompensationAttempts: [Int: Int]
    /// Why the instance is compensating, compensated or failed.
    public var failure: String?
    /// Events applied: the next event's number (its message id is `ID#NUMBER`).
    public var eventCount: Int
    /// When it started, in milliseconds since the epoch.
    public var startedMilliseconds: Int64
    /// When its last event happened.
    public var updatedMilliseconds: Int64

    /// The instance a ``SagaEvent/Kind/started`` event begins.
    init(id: String, started event: SagaEvent) {
        self.id = id
        data = event.detail ?? ""
        status = .running
        completedSteps = 0
        results = []
        compensateFrom = -1
        compensatedSteps = []
        failedCompensationAttempts = [:]
        eventCount = 1
        startedMilliseconds = event.atMilliseconds
        updatedMilliseconds = event.atMilliseconds
    }

    /// Folds one event in. Events that do not fit the state (which a correct manager never
    /// writes) still count, and change only what they name.
    public mutating func apply(_ event: SagaEvent) {
        eventCount += 1
        updatedMilliseconds = event.atMilliseconds
        let step = event.step ?? 0
        switch event.kind {
        case .started:
            break
        case .stepStarted:
            awaiting = SagaStepRef(step: step, isCompensation: false, attempt: event.attempt ?? 1)
            deadlineMilliseconds = event.deadlineMilliseconds
        case .stepSucceeded:
            clearAwaiting()
            completedSteps = step + 1
            results.append(event.detail ?? "")
        case .stepFailed:
            clearAwaiting()
            status = .compensating
            failure = event.detail
            compensateFrom = step - 1
        case .stepTimedOut:
            clearAwaiting()
            status = .compensating
            failure = event.detail
            // Its action may have been applied after all: it is undone too.
            compensateFrom = step
        case .compensationStarted:
            awaiting = SagaStepRef(step: step, isCompensation: true, attempt: event.attempt ?? 1)
            deadlineMilliseconds = event.deadlineMilliseconds
        case .compensationSucceeded:
            clearAwaiting()
            compensatedSteps.append(step)
            compensateFrom = step - 1
        case .compensationFailed:
            clearAwaiting()
            failedCompensationAttempts[step] = event.attempt ?? 1
        case .completed:
            clearAwaiting()
            status = .completed
        case .compensated:
            clearAwaiting()
            status = .compensated
        case .failed:
            clearAwaiting()
            status = .failed
            failure = event.detail
        }
    }

    private mutating func clearAwaiting() {
        awaiting = nil
        deadlineMilliseconds = nil
    }
}
