import StreamStore
@testable import StreamStoreMessaging
import StreamStoreTestSupport
import Testing

/// The saga state machine against a reference model: random definitions and participant
/// behaviour (successes, failures, timeouts, failing compensations), delivered with duplicates,
/// stale and early inputs in random order, and restarts that rebuild the instance from its
/// events. Seeded: a failure prints the seed to replay it.
@Suite struct SagaModelTests {
    /// What a participant does with one command.
    enum Behaviour: CaseIterable { case succeed, fail, stayQuiet }

    /// A random saga and what its participants do.
    struct Scenario {
        var definition: SagaDefinition
        var actions: [Behaviour]
        /// Per step, per attempt: what its compensation does.
        var compensations: [[Behaviour]]
    }

    /// What the reference expects: the commands in the order they go out, and the end.
    struct Expected: Equatable {
        var commands: [SagaStepRef]
        var status: SagaStatus
        var compensated: [Int]
    }

    /// The reference: a plain reading of the rules, written without the machine.
    static func reference(_ scenario: Scenario) -> Expected {
        var commands: [SagaStepRef] = []
        let steps = scenario.definition.steps
        var step = 0
        var undoFrom = -1
        actions: while step < steps.count {
            commands.append(SagaStepRef(step: step, isCompensation: false, attempt: 1))
            switch scenario.actions[step] {
            case .succeed: step += 1
            case .fail:
                undoFrom = step - 1
                break actions
            case .stayQuiet:
                // Its action may have happened: it is undone too.
                undoFrom = step
                break actions
            }
        }
        if step == steps.count { return Expected(commands: commands, status: .completed, compensated: []) }
        var compensated: [Int] = []
        for index in stride(from: undoFrom, through: 0, by: -1) where steps[index].compensation != nil {
            var undone = false
            for attempt in 1...scenario.definition.compensationAttempts {
                commands.append(SagaStepRef(step: index, isCompensation: true, attempt: attempt))
                if scenario.compensations[index][attempt - 1] == .succeed {
                    undone = true
                    break
                }
            }
            guard undone else { return Expected(commands: commands, status: .failed, compensated: compensated) }
            compensated.append(index)
        }
        return Expected(commands: commands, status: .compensated, compensated: compensated)
    }

    static func scenario(_ random: inout SplitMix64) throws -> Scenario {
        let count = 1 + random.upTo(4)
        let steps = (0..<count).map { index in
            SagaStep(
                name: "s\(index)", topic: "t\(index)", action: "do-\(index)", compensation: random.oneIn(4) ? nil : "undo-\(index)",
                timeoutMilliseconds: Int64(100 + random.upTo(1000)))
        }
        let attempts = 1 + random.upTo(2)
        let definition = try SagaDefinition(name: "model", steps: steps, compensationAttempts: attempts)
        func behaviour(_ random: inout SplitMix64, failureOneIn: Int) -> Behaviour {
            random.oneIn(failureOneIn) ? [.fail, .stayQuiet][random.upTo(1)] : .succeed
        }
        let actions = (0..<count).map { _ in behaviour(&random, failureOneIn: 4) }
        let compensations = (0..<count).map { _ in (0..<attempts).map { _ in behaviour(&random, failureOneIn: 3) } }
        return Scenario(definition: definition, actions: actions, compensations: compensations)
    }

    /// Drives the machine through `scenario` with noise; returns the commands it sent and the
    /// instance it ended with.
    static func drive(_ scenario: Scenario, random: inout SplitMix64, context: String) -> (commands: [SagaStepRef], instance: SagaInstance?) {
        let definition = scenario.definition
        let id = "saga-1"
        var now: Int64 = 1_000_000
        var log: [SagaEvent] = []
        var instance: SagaInstance?
        var commands: [SagaStepRef] = []
        var delivered: [SagaMachine.Input] = []

        func take(_ input: SagaMachine.Input) -> Bool {
            let events = SagaMachine.decide(instance, id: id, input: input, definition: definition, now: now)
            guard !events.isEmpty else { return false }
            // Now and then a restart between the outcome and the step it leads to: only the
            // first event reaches the log, and the rebuilt instance is taken up with `.resume`.
            var written = events
            if events.count > 1, random.oneIn(4) { written = [events[0]] }
            log += written
            instance = SagaMachine.apply(written, to: instance, id: id)
            commands += written.compactMap(\.commandRef)
            if written.count < events.count {
                instance = SagaMachine.apply(log, to: nil, id: id)
                let resumed = SagaMachine.decide(instance, id: id, input: .resume, definition: definition, now: now)
                log += resumed
                instance = SagaMachine.apply(resumed, to: instance, id: id)
                commands += resumed.compactMap(\.commandRef)
            }
            return true
        }

        func noise(_ random: inout SplitMix64) -> [SagaMachine.Input] {
            var inputs: [SagaMachine.Input] = []
            for _ in 0..<random.upTo(3) {
                switch random.upTo(4) {
                case 0: if let old = delivered.randomElement(using: &random) { inputs.append(old) }
                case 1: if let old = commands.dropLast().randomElement(using: &random) { inputs.append(.reply(old, succeeded: random.oneIn(2), value: "stale")) }
                case 2: if let current = instance?.awaiting { inputs.append(.timeout(current)) }
                case 3:
                    if let current = instance?.awaiting {
                        inputs.append(.reply(SagaStepRef(step: current.step, isCompensation: current.isCompensation, attempt: current.attempt + 1), succeeded: true, value: "future"))
                    }
                default: inputs.append(.start(data: "again"))
                }
            }
            return inputs
        }

        _ = take(.start(data: "order"))
        var rounds = 0
        while let awaiting = instance?.awaiting, rounds < 1000 {
            rounds += 1
            let behaviour = awaiting.isCompensation ? scenario.compensations[awaiting.step][awaiting.attempt - 1] : scenario.actions[awaiting.step]
            // Noise before the answer: none of it may change anything (an early timeout included).
            for input in noise(&random) {
                let before = instance
                #expect(!take(input), "noise \(input) changed the instance (\(context))")
                #expect(instance == before, "(\(context))")
            }
            let answer: SagaMachine.Input
            switch behaviour {
            case .succeed: answer = .reply(awaiting, succeeded: true, value: "ok \(awaiting)")
            case .fail: answer = .reply(awaiting, succeeded: false, value: "no")
            case .stayQuiet:
                now = instance?.deadlineMilliseconds ?? now
                answer = .timeout(awaiting)
            }
            #expect(take(answer), "the answer to \(awaiting) changed nothing (\(context))")
            delivered.append(answer)
            now += Int64(random.upTo(50))
            // The same answer again, after it took effect, changes nothing.
            if random.oneIn(2) {
                let before = instance
                #expect(!take(answer), "a duplicate of \(answer) changed the instance (\(context))")
                #expect(instance == before)
            }
        }
        // The instance rebuilt from its events is the instance.
        #expect(SagaMachine.apply(log, to: nil, id: id) == instance, "rebuilt state differs (\(context))")
        return (commands, instance)
    }

    @Test func theMachineAgreesWithTheReferenceUnderNoise() throws {
        var random = SplitMix64(seed: TestSeed.value)
        for round in 0..<2_000 {
            let scenario = try Self.scenario(&random)
            let expected = Self.reference(scenario)
            let context = "round \(round), actions \(scenario.actions), compensations \(scenario.compensations), \(TestSeed.replay)"
            let (commands, instance) = Self.drive(scenario, random: &random, context: context)
            #expect(commands == expected.commands, "\(context)")
            #expect(instance?.status == expected.status, "\(context)")
            #expect(instance?.compensatedSteps == expected.compensated, "\(context)")
            #expect(Set(commands).count == commands.count, "a command went out twice (\(context))")
            if commands != expected.commands || instance?.status != expected.status { return }
        }
    }

    @Test func theStepHeaderRoundTrips() {
        let ref = SagaStepRef(step: 2, isCompensation: true, attempt: 3)
        #expect(ref.description == "2:compensation:3")
        #expect(SagaStepRef(ref.description) == ref)
        #expect(SagaStepRef("2:undo:1") == nil)
        #expect(SagaStepRef("-1:action:1") == nil)
        #expect(SagaStepRef("1:action:0") == nil)
    }

    @Test func badDefinitionsAreRefusedWithTheReason() {
        let step = SagaStep(name: "a", topic: "t", action: "do", timeoutMilliseconds: 10)
        for (steps, name, fragment) in [
            ([SagaStep](), "order", "1 to"),
            ([step, step], "order", "Two steps"),
            ([SagaStep(name: "a", topic: "t", action: "do", timeoutMilliseconds: 0)], "order", "positive timeout"),
            ([SagaStep(name: "a", topic: "../x", action: "do", timeoutMilliseconds: 10)], "order", "invalid topic"),
            ([step], "no/slash", "not a valid saga name"),
        ] {
            do throws(MessagingError) {
                _ = try SagaDefinition(name: name, steps: steps)
                Issue.record("\(name) \(steps) was accepted")
            } catch {
                #expect(error.code == .invalidDefinition)
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }
}

extension SagaEvent {
    /// The command this event sends, if it sends one.
    var commandRef: SagaStepRef? {
        switch kind {
        case .stepStarted: SagaStepRef(step: step ?? 0, isCompensation: false, attempt: attempt ?? 1)
        case .compensationStarted: SagaStepRef(step: step ?? 0, isCompensation: true, attempt: attempt ?? 1)
        default: nil
        }
    }
}
