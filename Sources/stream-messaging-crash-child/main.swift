// A child process for the messaging crash tests (Tests/StreamStoreMessagingTests/MessagingCrashTests.swift):
// it works until it is killed with SIGKILL at a random moment, or until its work is done.
//
// usage: stream-messaging-crash-child responder STORE_DIR
//        stream-messaging-crash-child saga STORE_DIR RUN SAGAS
//        stream-messaging-crash-child drain STORE_DIR
//
// responder: group "workers" answers the commands of topic "commands" (the test appended them,
// reply-to "replies"); the handler takes 0 to 2 ms. Prints "replied MESSAGE-ID" once a reply is
// durable, before its command is committed.
//
// saga: the order saga (reserve-stock at "stock", charge-payment at "payments", ship-order at
// "shipping"; release-stock and refund-payment undo the first two) with its three participants
// in this process; starts SAGAS instances RUN-0, RUN-1, ... (a payment fails for every order
// whose number ends in 3 or 7). Participants apply each effect once: an effect is a record of
// topic "effects" whose message id is INSTANCE:STEP:action or INSTANCE:STEP:compensation, and a
// participant skips an effect it finds there (read at start, then kept in memory). Prints
// "started ID" and "finished ID STATUS".
//
// drain: the same manager and participants, starting nothing; exits 0 once every instance is
// completed, compensated or failed, printing "drained N".
//
// All print "ready" once set up.
import Foundation
import StreamStore
import StreamStoreMessaging

func die(_ error: any Error) -> Never {
    FileHandle.standardError.write(Data("stream-messaging-crash-child: \(error)\n".utf8))
    exit(1)
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func runResponder(store path: String) async {
    do {
        let store = try Store.open(at: path)
        let responder = try Responder(store: store, group: "workers", commandTopic: "commands", options: Responder.Options(maxConcurrentCommands: 32))
        say("ready")
        try await responder.run(onEvent: { event in
            if case .replied(let command, _, _, _) = event { say("replied \(command.messageID ?? "?")") }
        }) { command in
            try await Task.sleep(for: .microseconds(Int.random(in: 0...2000)))
            return Reply("done \(command.messageID ?? "?")")
        }
    } catch {
        die(error)
    }
}

/// The order saga of the crash tests; generous timeouts, so only kills decide the flow.
func orderSaga(timeoutMilliseconds: Int64 = 60_000) throws -> SagaDefinition {
    try SagaDefinition(name: "order", steps: [
        SagaStep(name: "reserve-stock", topic: "stock", action: "reserve-stock", compensation: "release-stock", timeoutMilliseconds: timeoutMilliseconds),
        SagaStep(name: "charge-payment", topic: "payments", action: "charge-payment", compensation: "refund-payment", timeoutMilliseconds: timeoutMilliseconds),
        SagaStep(name: "ship", topic: "shipping", action: "ship-order", timeoutMilliseconds: timeoutMilliseconds),
    ])
}

struct PaymentDeclined: Error, CustomStringConvertible {
    var description: String { "payment declined" }
}

/// The participants: each effect appended to "effects" once, whatever the deliveries.
final class Participants: Sendable {
    let store: Store
    let effects: Topic
    let applied: Locked<Set<String>>

    init(store: Store) throws {
        self.store = store
        for topic in ["stock", "payments", "shipping"] { _ = try store.createTopic(topic, config: TopicConfig(partitionCount: 2)) }
        effects = try store.createTopic("effects", config: TopicConfig(partitionCount: 1))
        var seen: Set<String> = []
        let end = try effects.logEndOffset(partition: 0)
        var offset = try effects.logStartOffset(partition: 0)
        while offset < end {
            let records = try effects.read(partition: 0, from: offset)
            for record in records { if let id = record.messageID { seen.insert(id) } }
            offset = (records.last?.offset ?? end) + 1
        }
        applied = Locked(seen)
    }

    /// Applies the effect of `command` once: its id names the instance, the step and the side,
    /// not the attempt, so a compensation tried again is not applied again.
    func apply(_ command: StoredRecord) async throws -> Reply {
        guard let id = command.correlationID, let step = command.headerString(.sagaStep).flatMap(SagaStepRef.init) else {
            throw PaymentDeclined()
        }
        if command.eventType == "charge-payment", let number = Int(id.split(separator: "-").last ?? ""), number % 10 == 3 || number % 10 == 7 {
            throw PaymentDeclined()
        }
        let effect = "\(id):\(step.step):\(step.isCompensation ? "compensation" : "action")"
        let fresh = applied.withLock { $0.insert(effect).inserted }
        if fresh {
            do {
                _ = try await effects.append([Record(key: id, value: command.eventType ?? "?", headers: [RecordHeader(.messageID, effect)])], partition: 0)
            } catch {
                _ = applied.withLock { $0.remove(effect) }
                throw error
            }
        }
        return Reply(command.eventType ?? "?")
    }

    func run() -> [Task<Void, Never>] {
        ["stock", "payments", "shipping"].map { topic in
            Task {
                do {
                    let responder = try Responder(store: store, group: topic + "-service", commandTopic: topic)
                    try await responder.run { command in try await self.apply(command) }
                } catch {
                    die(error)
                }
            }
        }
    }
}

func runSagas(store path: String, run: String?, count: Int) async {
    do {
        let store = try Store.open(at: path)
        let participants = try Participants(store: store)
        let manager = try await SagaManager(store: store, definition: try orderSaga())
        let workers = participants.run()
        let replies = Task {
            do { try await manager.run() } catch { die(error) }
        }
        say("ready")
        if let run {
            await withTaskGroup(of: Void.self) { group in
                for number in 0..<count {
                    group.addTask {
                        do {
                            let id = "\(run)-\(number)"
                            _ = try await manager.start(id: id, data: #"{"order":"\#(id)","cents":1200}"#)
                            say("started \(id)")
                        } catch {
                            die(error)
                        }
                    }
                }
            }
        }
        var reported: Set<String> = []
        while true {
            let instances = manager.allInstances()
            for instance in instances where instance.status.isFinal && !reported.contains(instance.id) {
                reported.insert(instance.id)
                say("finished \(instance.id) \(instance.status.rawValue)")
            }
            if run == nil, instances.allSatisfy(\.status.isFinal) {
                say("drained \(instances.count)")
                // Exits without closing: the responders and the manager would fail on a closed
                // store before the exit. Every outcome is durable already; the next open recovers.
                withExtendedLifetime((store, manager, replies, workers)) {}
                exit(0)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    } catch {
        die(error)
    }
}

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "responder" {
    await runResponder(store: arguments[2])
} else if arguments.count == 5, arguments[1] == "saga", let count = Int(arguments[4]) {
    await runSagas(store: arguments[2], run: arguments[3], count: count)
} else if arguments.count == 3, arguments[1] == "drain" {
    await runSagas(store: arguments[2], run: nil, count: 0)
} else {
    FileHandle.standardError.write(Data("usage: stream-messaging-crash-child responder STORE_DIR | saga STORE_DIR RUN SAGAS | drain STORE_DIR\n".utf8))
    exit(2)
}
