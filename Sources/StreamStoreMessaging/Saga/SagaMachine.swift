/// The saga state machine, without I/O: given an instance, its definition and what happened,
/// the events that follow. The ``SagaManager`` appends them and sends the commands they start;
/// the model tests check it against a reference.
enum SagaMachine {
    /// What can happen to an instance.
    enum Input: Sendable, Equatable {
        /// Begin an instance with this data (ignored when it exists).
        case start(data: String)
        /// A participant answered `ref`: `succeeded`, with its reply's value.
        case reply(SagaStepRef, succeeded: Bool, value: String)
        /// The deadline of `ref` passed.
        case timeout(SagaStepRef)
        /// Take up an instance that waits for nothing (after a restart between an outcome and
        /// the step it leads to).
        case resume
    }

    /// The events `input` leads to; empty when it changes nothing (a duplicate, a stale reply,
    /// an early timeout, an instance that is finished).
    static func decide(_ instance: SagaInstance?, id: String, input: Input, definition: SagaDefinition, now: Int64) -> [SagaEvent] {
        guard let instance else {
            guard case .start(let data) = input else { return [] }
            let started = SagaEvent(.started, detail: data, atMilliseconds: now)
            return [started] + advance(SagaInstance(id: id, started: started), definition: definition, now: now)
        }
        guard !instance.status.isFinal else { return [] }
        let outcome: SagaEvent?
        switch input {
        case .start: return []
        case .resume: return advance(instance, definition: definition, now: now)
        case .reply(let ref, let succeeded, let value):
            guard ref == instance.awaiting else { return [] }
            switch (ref.isCompensation, succeeded) {
            case (false, true): outcome = SagaEvent(.stepSucceeded, step: ref.step, attempt: ref.attempt, detail: value, atMilliseconds: now)
            case (false, false): outcome = SagaEvent(.stepFailed, step: ref.step, attempt: ref.attempt, detail: value, atMilliseconds: now)
            case (true, true): outcome = SagaEvent(.compensationSucceeded, step: ref.step, attempt: ref.attempt, atMilliseconds: now)
            case (true, false): outcome = SagaEvent(.compensationFailed, step: ref.step, attempt: ref.attempt, detail: value, atMilliseconds: now)
            }
        case .timeout(let ref):
            guard ref == instance.awaiting, let deadline = instance.deadlineMilliseconds, now >= deadline else { return [] }
            let name = definition.steps.indices.contains(ref.step) ? definition.steps[ref.step].name : "\(ref.step)"
            if ref.isCompensation {
                outcome = SagaEvent(.compensationFailed, step: ref.step, attempt: ref.attempt, detail: "the compensation of step \(name) timed out", atMilliseconds: now)
            } else {
                outcome = SagaEvent(.stepTimedOut, step: ref.step, attempt: ref.attempt, detail: "step \(name) timed out", atMilliseconds: now)
            }
        }
        guard let outcome else { return [] }
        var next = instance
        next.apply(outcome)
        return [outcome] + advance(next, definition: definition, now: now)
    }

    /// What an instance that waits for nothing does next: the next step, the next
    /// compensation, or its end.
    static func advance(_ instance: SagaInstance, definition: SagaDefinition, now: Int64) -> [SagaEvent] {
        guard instance.awaiting == nil else { return [] }
        switch instance.status {
        case .running:
            guard instance.completedSteps < definition.steps.count else { return [SagaEvent(.completed, atMilliseconds: now)] }
            let step = instance.completedSteps
            return [SagaEvent(.stepStarted, step: step, attempt: 1, deadlineMilliseconds: now + definition.steps[step].timeoutMilliseconds, atMilliseconds: now)]
        case .compensating:
            var step = min(instance.compensateFrom, definition.steps.count - 1)
            while step >= 0, definition.steps[step].compensation == nil { step -= 1 }
            guard step >= 0 else { return [SagaEvent(.compensated, atMilliseconds: now)] }
            let attempt = (instance.failedCompensationAttempts[step] ?? 0) + 1
            guard attempt <= definition.compensationAttempts else {
                return [SagaEvent(
                    .failed, step: step, detail: "the compensation of step \(definition.steps[step].name) failed \(definition.compensationAttempts) time(s)",
                    atMilliseconds: now)]
            }
            return [SagaEvent(
                .compensationStarted, step: step, attempt: attempt, deadlineMilliseconds: now + definition.steps[step].timeoutMilliseconds, atMilliseconds: now)]
        case .completed, .compensated, .failed:
            return []
        }
    }

    /// Folds `events` into `instance` (nil before the first).
    static func apply(_ events: [SagaEvent], to instance: SagaInstance?, id: String) -> SagaInstance? {
        var current = instance
        for event in events {
            if var existing = current {
                existing.apply(event)
                current = existing
            } else if event.kind == .started {
                current = SagaInstance(id: id, started: event)
            }
        }
        return current
    }
}
