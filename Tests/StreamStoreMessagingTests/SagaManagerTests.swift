import Foundation
import MetricsTestKit
import StreamStore
import StreamStoreMessaging
import StreamStoreTestSupport
import Testing

/// The process manager over a real store, with participants answering as responders: the
/// order saga completes, a declined payment releases its stock, a silent participant times out,
/// and a manager made again after a "crash" carries on from the saga topic.
@Suite(.timeLimit(.minutes(5))) struct SagaManagerTests {
    /// A timeout a test does not mean to fire: longer than the suite's time limit, because in a
    /// full parallel run on two cores a task can wait tens of seconds for a thread, and a step
    /// that timed out only because the machine was busy would compensate and retry.
    static let neverMilliseconds: Int64 = 600_000

    static func order(timeoutMilliseconds: Int64 = neverMilliseconds) throws -> SagaDefinition {
        try SagaDefinition(name: "order", steps: [
            SagaStep(name: "reserve-stock", topic: "stock", action: "reserve-stock", compensation: "release-stock", timeoutMilliseconds: timeoutMilliseconds),
            SagaStep(name: "charge-payment", topic: "payments", action: "charge-payment", compensation: "refund-payment", timeoutMilliseconds: timeoutMilliseconds),
            SagaStep(name: "ship", topic: "shipping", action: "ship-order", timeoutMilliseconds: timeoutMilliseconds),
        ])
    }

    /// The three participants as responders; payments of orders whose data says "decline" fail.
    /// Returns the effects each applied, by command event type.
    final class Participants: Sendable {
        let effects = Locked<[String: [String]]>([:])
        let tasks = Locked<[Task<Void, any Error>]>([])

        init(_ fixture: MessagingFixture, topics: [String] = ["stock", "payments", "shipping"], clock: any StoreClock = SystemClock()) throws {
            for topic in ["stock", "payments", "shipping"] { try fixture.topic(topic, partitions: 2) }
            for topic in topics {
                let responder = try Responder(store: fixture.store, group: topic + "-service", commandTopic: topic, options: Responder.Options(clock: clock))
                let task = Task { [effects] in
                    try await responder.run { command in
                        if command.eventType == "charge-payment", command.valueString?.contains("decline") == true {
                            struct Declined: Error {}
                            throw Declined()
                        }
                        effects.withLock { $0[command.eventType ?? "?", default: []].append(command.correlationID ?? "?") }
                        return Reply("done")
                    }
                }
                tasks.withLock { $0.append(task) }
            }
        }

        func stop() { for task in tasks.withLock({ $0 }) { task.cancel() } }
        func applied(_ kind: String) -> [String] { effects.withLock { $0[kind] ?? [] } }
    }

    @Test func anOrderCompletesAndADeclinedPaymentReleasesItsStock() async throws {
        let fixture = try MessagingFixture()
        let participants = try Participants(fixture)
        defer { participants.stop() }
        let metrics = TestMetrics()
        let manager = try await SagaManager(store: fixture.store, definition: try Self.order(), options: SagaManager.Options(metricsFactory: metrics))
        let replies = Task { try await manager.run() }
        defer { replies.cancel() }
        try await manager.start(id: "order-1", data: "sku-1 x2")
        try await manager.start(id: "order-2", data: "sku-2 decline")
        try await waitUntil { manager.allInstances().allSatisfy(\.status.isFinal) }
        #expect(manager.instance("order-1")?.status == .completed)
        #expect(manager.instance("order-1")?.results == ["done", "done", "done"])
        let declined = try #require(manager.instance("order-2"))
        #expect(declined.status == .compensated)
        #expect(declined.compensatedSteps == [0])
        #expect(participants.applied("reserve-stock").sorted() == ["order-1", "order-2"])
        #expect(participants.applied("release-stock") == ["order-2"])
        #expect(participants.applied("charge-payment") == ["order-1"])
        #expect(participants.applied("refund-payment").isEmpty)
        #expect(participants.applied("ship-order") == ["order-1"])
        #expect(manager.statistics.compensationsRun == 1)
        #expect(try metrics.expectCounter("streamstore_saga_compensations_total", [("saga", "order")]).totalValue == 1)
        #expect(try metrics.expectRecorder("streamstore_sagas", [("saga", "order"), ("state", "completed")]).lastValue == 1)

        // The saga's whole flow shares its id: events, commands and replies.
        let traced = try fixture.store.trace(correlationID: "order-2")
        #expect(Set(traced.records.map(\.topic)) == ["order.sagas", "stock", "payments", "order.saga-replies"])
        let history = try SagaCatalog.history(of: "order-2", in: fixture.store)
        #expect(history.map(\.event.kind) == [
            .started, .stepStarted, .stepSucceeded, .stepStarted, .stepFailed, .compensationStarted, .compensationSucceeded, .compensated,
        ])
        #expect(history.first?.messageID == "order-2#0")
        #expect(try await SagaCatalog.instances(in: fixture.store, status: .compensated).map(\.instance.id) == ["order-2"])
    }

    /// Starting an id twice, and a reply delivered twice, change nothing.
    @Test func duplicatesChangeNothing() async throws {
        let fixture = try MessagingFixture()
        let participants = try Participants(fixture)
        defer { participants.stop() }
        let manager = try await SagaManager(store: fixture.store, definition: try Self.order())
        let replies = Task { try await manager.run() }
        defer { replies.cancel() }
        try await manager.start(id: "order-1", data: "a")
        try await manager.start(id: "order-1", data: "b")
        try await waitUntil { manager.instance("order-1")?.status == .completed }
        let done = try #require(manager.instance("order-1"))
        #expect(done.data == "a")
        // Every reply of the instance once more, as a responder that crashed before its commit
        // would send it (the window is bypassed with fresh ids: only the state may stop them).
        let replyTopic = try fixture.store.topic("order.saga-replies")
        for reply in try fixture.records("order.saga-replies") {
            var again = Record(key: reply.key.map(Array.init), value: reply.value.map(Array.init), headers: reply.headers)
            again.setHeader(.messageID, UUID().uuidString)
            _ = try await replyTopic.append([again], partition: reply.partition)
        }
        try await waitUntil { manager.statistics.ignoredInputs >= 3 }
        #expect(manager.instance("order-1") == done)
        #expect(participants.applied("ship-order") == ["order-1"])
    }

    /// A participant that never answers: the step times out and the steps before it, and the
    /// step itself, are undone in reverse order.
    @Test func aSilentParticipantTimesOutAndTheStepsBeforeAreUndoneInReverse() async throws {
        let fixture = try MessagingFixture()
        let participants = try Participants(fixture, topics: ["stock", "payments"])
        defer { participants.stop() }
        let definition = try SagaDefinition(name: "order", steps: [
            SagaStep(name: "reserve-stock", topic: "stock", action: "reserve-stock", compensation: "release-stock", timeoutMilliseconds: Self.neverMilliseconds),
            SagaStep(name: "charge-payment", topic: "payments", action: "charge-payment", compensation: "refund-payment", timeoutMilliseconds: Self.neverMilliseconds),
            SagaStep(name: "ship", topic: "shipping", action: "ship-order", compensation: "cancel-shipment", timeoutMilliseconds: 300),
        ])
        let manager = try await SagaManager(store: fixture.store, definition: definition)
        let replies = Task { try await manager.run() }
        defer { replies.cancel() }
        try await manager.start(id: "order-1", data: "a")
        // Shipping answers nothing, so its compensation times out too: the saga fails after
        // three attempts without touching the other steps.
        try await waitUntil { manager.instance("order-1")?.status.isFinal == true }
        let instance = try #require(manager.instance("order-1"))
        #expect(instance.status == .failed)
        #expect(instance.failedCompensationAttempts[2] == 3)
        #expect(participants.applied("release-stock").isEmpty)
    }

    /// Deadlines are events: a manager made again after its deadline passed (the old one
    /// "crashed" before it) fires the timeout and compensates.
    ///
    /// The managers read a manual clock, so the deadline passes when the test says, not when a
    /// busy machine happens to be slow: with the system clock, a first manager that did not get
    /// a thread before its deadline fired the timeout itself and the test saw something else.
    @Test func aTimeoutPersistedBeforeACrashFiresAfterTheRestart() async throws {
        let fixture = try MessagingFixture()
        let clock = ManualClock(start: SystemClock().nowMilliseconds())
        let participants = try Participants(fixture, topics: ["stock", "payments"], clock: clock)
        defer { participants.stop() }
        let definition = try SagaDefinition(name: "order", steps: [
            SagaStep(name: "reserve-stock", topic: "stock", action: "reserve-stock", compensation: "release-stock", timeoutMilliseconds: Self.neverMilliseconds),
            SagaStep(name: "ship", topic: "shipping", action: "ship-order", timeoutMilliseconds: Self.neverMilliseconds),
        ])
        let options = SagaManager.Options(clock: clock)
        do {
            let first = try await SagaManager(store: fixture.store, definition: definition, options: options)
            let replies = Task { try await first.run() }
            try await first.start(id: "order-1", data: "a")
            try await waitUntil { first.instance("order-1")?.awaiting?.step == 1 }
            first.close()
            replies.cancel()
            _ = await replies.result
        }
        let waiting = try #require(try await SagaCatalog.instances(in: fixture.store).first?.instance)
        #expect(waiting.awaiting == SagaStepRef(step: 1, isCompensation: false, attempt: 1), "the first manager must stop before the deadline")
        let deadline = try #require(waiting.deadlineMilliseconds)
        clock.advance(milliseconds: deadline - clock.nowMilliseconds() + 1)
        let second = try await SagaManager(store: fixture.store, definition: definition, options: options)
        #expect(second.statistics.rebuiltInstances == 1)
        let replies = Task { try await second.run() }
        defer { replies.cancel() }
        try await waitUntil { second.instance("order-1")?.status.isFinal == true }
        #expect(second.instance("order-1")?.status == .compensated)
        #expect(second.instance("order-1")?.compensatedSteps == [0])
        #expect(participants.applied("release-stock") == ["order-1"])
        #expect(participants.applied("ship-order").isEmpty)
    }

    /// A restart rebuilds every instance from the saga topic (with a snapshot the next time), and
    /// sends again the command a running instance waits for: the participant, deduplicated by
    /// the topic's window, sees it once.
    @Test func aRestartRebuildsInstancesAndResendsWhatTheyWaitFor() async throws {
        let fixture = try MessagingFixture()
        for topic in ["stock", "payments", "shipping"] { try fixture.topic(topic, partitions: 2) }
        let definition = try Self.order()
        do {
            let first = try await SagaManager(store: fixture.store, definition: definition)
            for number in 0..<5 { try await first.start(id: "order-\(number)", data: "x") }
            first.close()
        }
        let second = try await SagaManager(store: fixture.store, definition: definition)
        #expect(second.statistics.rebuiltInstances == 5)
        #expect(second.allInstances().allSatisfy { $0.awaiting == SagaStepRef(step: 0, isCompensation: false, attempt: 1) })
        #expect(try fixture.records("stock").count == 5)
        second.close()
        // The third start folds nothing before the snapshot the second saved.
        let third = try await SagaManager(store: fixture.store, definition: definition)
        #expect(third.statistics.rebuiltInstances == 5)
        #expect(third.statistics.replayedEvents == 0)
        third.close()
        // Participants now answer: every instance completes.
        let participants = try Participants(fixture)
        defer { participants.stop() }
        let fourth = try await SagaManager(store: fixture.store, definition: definition)
        let replies = Task { try await fourth.run() }
        defer { replies.cancel() }
        try await waitUntil { fourth.allInstances().allSatisfy { $0.status == .completed } }
        #expect(participants.applied("reserve-stock").count == 5)
    }
}
