import Foundation
import StreamStore
import StreamStoreMessaging
import Synchronization

/// The worked example of docs/MESSAGING.md, run by `demo` and `bench sagas`: an order saga
/// (reserve stock → charge payment → ship) whose three participants are responders in this
/// process, with every fifth payment declined so its stock reservation is released.
final class OrderSagaExample: Sendable {
    static let participantTopics = ["stock", "payments", "shipping"]

    /// What the participants did, counted as they did it.
    final class Ledger: Sendable {
        let reserved = Atomic<Int>(0)
        let released = Atomic<Int>(0)
        let charged = Atomic<Int>(0)
        let declined = Atomic<Int>(0)
        let shipped = Atomic<Int>(0)
    }

    /// How a run ended.
    struct Outcome {
        var completed = 0
        var compensated = 0
        var failed = 0
        var seconds: Double = 0
        var firstCompensatedID: String?
        var firstCompletedID: String?
    }

    struct PaymentDeclined: Error, CustomStringConvertible {
        var description: String { "payment declined" }
    }

    let store: Store
    let definition: SagaDefinition
    let ledger = Ledger()

    init(store: Store, flush: FlushPolicy = .everyAppend) throws {
        self.store = store
        definition = try SagaDefinition(name: "order", steps: [
            SagaStep(name: "reserve-stock", topic: "stock", action: "reserve-stock", compensation: "release-stock", timeoutMilliseconds: 30_000),
            SagaStep(name: "charge-payment", topic: "payments", action: "charge-payment", compensation: "refund-payment", timeoutMilliseconds: 30_000),
            SagaStep(name: "ship", topic: "shipping", action: "ship-order", timeoutMilliseconds: 30_000),
        ])
        for topic in Self.participantTopics {
            if !store.topicNames.contains(topic) {
                _ = try store.createTopic(topic, config: TopicConfig(partitionCount: 4, flush: flush, dedupeWindowMilliseconds: 3_600_000))
            }
        }
    }

    /// Whether the example declines this order's payment: every fifth order.
    static func declines(_ data: String) -> Bool { data.contains("\"n\":4") }

    /// Starts the participants, the manager and `orders` sagas (ids PREFIX-N), and returns once
    /// every one of them ended.
    func run(orders: Int, idPrefix: String) async throws -> Outcome {
        let ids = (0..<orders).map { "\(idPrefix)-\($0)" }
        let pending = Set(ids)
        let finished = Locked((remaining: pending, outcome: Outcome()))
        let (allDone, done) = AsyncStream.makeStream(of: Void.self)
        if orders == 0 { done.finish() }
        let manager = try await SagaManager(
            store: store, definition: definition,
            options: SagaManager.Options(onChange: { instance in
                guard instance.status.isFinal else { return }
                let last = finished.withLock { state -> Bool in
                    guard state.remaining.remove(instance.id) != nil else { return false }
                    switch instance.status {
                    case .completed:
                        state.outcome.completed += 1
                        if state.outcome.firstCompletedID == nil { state.outcome.firstCompletedID = instance.id }
                    case .compensated:
                        state.outcome.compensated += 1
                        if state.outcome.firstCompensatedID == nil { state.outcome.firstCompensatedID = instance.id }
                    default: state.outcome.failed += 1
                    }
                    return state.remaining.isEmpty
                }
                if last { done.finish() }
            }))
        let participants = try participantTasks()
        let replies = Task { try await manager.run() }
        defer {
            manager.close()
            replies.cancel()
            for task in participants { task.cancel() }
        }
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (number, id) in ids.enumerated() {
                group.addTask {
                    // Every fifth order's card is declined.
                    let data = #"{"order":"\#(id)","sku":"sku-\#(number % 50)","count":\#(1 + number % 3),"cents":\#(1_000 + 37 * number),"n":\#(number % 5)}"#
                    try await manager.start(id: id, data: data)
                }
            }
            try await group.waitForAll()
        }
        for await _ in allDone {}
        var outcome = finished.withLock { $0.outcome }
        outcome.seconds = (clock.now - start).seconds
        for task in participants { task.cancel() }
        await withTaskGroup(of: Void.self) { group in
            for task in participants { group.addTask { _ = await task.result } }
        }
        return outcome
    }

    /// The three participants: each a responder in its own consumer group.
    private func participantTasks() throws -> [Task<Void, any Error>] {
        let ledger = ledger
        return try Self.participantTopics.map { topic in
            let responder = try Responder(store: store, group: topic + "-service", commandTopic: topic, options: Responder.Options(maxConcurrentCommands: 256))
            return Task {
                try await responder.run { command in
                    let data = command.valueString ?? ""
                    switch command.eventType {
                    case "reserve-stock": ledger.reserved.add(1, ordering: .relaxed)
                    case "release-stock": ledger.released.add(1, ordering: .relaxed)
                    case "charge-payment":
                        if Self.declines(data) {
                            ledger.declined.add(1, ordering: .relaxed)
                            throw PaymentDeclined()
                        }
                        ledger.charged.add(1, ordering: .relaxed)
                    case "ship-order": ledger.shipped.add(1, ordering: .relaxed)
                    default: break
                    }
                    return Reply("ok", eventType: (command.eventType ?? "command") + "-done")
                }
            }
        }
    }
}
