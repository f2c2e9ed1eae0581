import Foundation
import StreamStore
import StreamStoreMessaging
import StreamStoreTestSupport
import Testing

/// A real child process (stream-messaging-crash-child) killed with SIGKILL at random moments: a
/// responder answering commands, and a saga process manager with its participants. After every
/// kill the test checks the store; at the end every command has one reply and every saga ended
/// once, with no effect applied twice. `STREAMSTORE_MESSAGING_KILLS` sets the kills per test
/// (default 20; `make crash-test`: 100).
@Suite(.serialized, .tags(.slow), .timeLimit(.minutes(20))) struct MessagingCrashTests {
    static var kills: Int { Int(ProcessInfo.processInfo.environment["STREAMSTORE_MESSAGING_KILLS"] ?? "") ?? 20 }

    /// Commands appended up front; a responder killed mid-handling (between a durable reply and
    /// its commit, among other moments) and restarted: each command is answered once.
    @Test func aKilledResponderAnswersEachCommandOnceAfterRestarts() async throws {
        let fixture = try MessagingFixture()
        let perRun = 100
        let total = perRun * Self.kills
        try fixture.topic("commands", partitions: 2)
        _ = try fixture.topic("replies")
        var repliedBeforeKills = 0
        for iteration in 0..<Self.kills {
            // Fresh commands each round, so every child has work when it starts.
            let records = (iteration * perRun..<(iteration + 1) * perRun).map { number in
                Record(key: "k\(number % 16)", value: "c\(number)", headers: [RecordHeader(.messageID, "c\(number)"), RecordHeader(.replyTo, "replies")])
            }
            _ = try await fixture.store.topic("commands").append(records)
            try fixture.store.close()
            let lines = try await runChildAndKill(["responder", fixture.storePath], context: "iteration \(iteration)") { lines in
                lines.contains { $0.hasPrefix("replied") }
            }
            repliedBeforeKills += lines.filter { $0.hasPrefix("replied") }.count
            fixture.store = try Store.open(at: fixture.storePath)
            let replies = try fixture.records("replies")
            let ids = replies.compactMap(\.causationID)
            #expect(Set(ids).count == ids.count, "a command was answered twice (iteration \(iteration))")
            let committed = try fixture.store.group("workers").committedOffsets(topic: "commands")
            let answered = Set(ids)
            for partition in 0..<2 {
                for record in try fixture.store.topic("commands").read(partition: partition, from: 0, maxBytes: 1 << 30)
                where record.offset < committed[partition] ?? 0 {
                    #expect(answered.contains(record.messageID ?? ""), "committed command \(record.messageID ?? "?") has no reply (iteration \(iteration))")
                }
            }
        }
        #expect(repliedBeforeKills > 0)
        // The last run answers the rest.
        let responder = try Responder(store: fixture.store, group: "workers", commandTopic: "commands")
        let running = Task { try await responder.run { command in Reply("done \(command.messageID ?? "?")") } }
        try await waitUntil(seconds: 120) { (try? fixture.records("replies").count) == total }
        running.cancel()
        let replies = try fixture.records("replies")
        #expect(Set(replies.compactMap(\.causationID)) == Set((0..<total).map { "c\($0)" }))
        #expect(replies.count == total)
    }

    /// A process manager (with its participants) killed at random points while it starts and
    /// runs order sagas, then drained: every saga ends completed or compensated exactly once,
    /// declined payments have their stock released, and no effect happened twice.
    @Test func aKilledProcessManagerEndsEverySagaOnceWithEachEffectOnce() async throws {
        let fixture = try MessagingFixture()
        try fixture.store.close()
        let perRun = 12
        var startedBeforeKills = 0
        for iteration in 0..<Self.kills {
            let lines = try await runChildAndKill(["saga", fixture.storePath, "r\(iteration)", "\(perRun)"], context: "iteration \(iteration)") { lines in
                lines.contains { $0.hasPrefix("started") }
            }
            startedBeforeKills += lines.filter { $0.hasPrefix("started") }.count
        }
        #expect(startedBeforeKills > 0)
        let drain = try ChildProcess("stream-messaging-crash-child", ["drain", fixture.storePath])
        let status = await drain.waitForExit(seconds: 300)
        #expect(status == 0, "the drain ended with \(status): \(drain.output.suffix(5))")
        #expect(drain.output.contains { $0.hasPrefix("drained") }, "\(drain.output.suffix(5))")

        fixture.store = try Store.open(at: fixture.storePath)
        let entries = try await SagaCatalog.instances(in: fixture.store, saga: "order")
        #expect(!entries.isEmpty)
        var effects: [String: Int] = [:]
        for record in try fixture.records("effects") { effects[record.messageID ?? "?", default: 0] += 1 }
        let doubled = effects.filter { $0.value > 1 }.map(\.key)
        #expect(doubled.isEmpty, "effects applied twice: \(doubled.prefix(5))")
        for entry in entries {
            let instance = entry.instance
            let id = instance.id
            let applied = { (step: Int, side: String) in effects["\(id):\(step):\(side)"] != nil }
            switch instance.status {
            case .completed:
                #expect(applied(0, "action") && applied(1, "action") && applied(2, "action"), "\(id) completed without all effects")
                #expect(!applied(0, "compensation") && !applied(1, "compensation"), "\(id) completed but was undone")
            case .compensated:
                // Each step whose action happened was undone (shipping has nothing to undo).
                for step in 0..<2 where applied(step, "action") {
                    #expect(applied(step, "compensation"), "\(id): step \(step) happened and was not undone")
                }
                #expect(!applied(2, "action"), "\(id) shipped but was compensated")
            default:
                Issue.record("\(id) ended \(instance.status.rawValue): \(instance.failure ?? "")")
            }
            let number = Int(id.split(separator: "-").last ?? "") ?? -1
            let declined = number % 10 == 3 || number % 10 == 7
            if declined { #expect(instance.status == .compensated, "\(id): a declined payment did not compensate") }
        }
        // The saga topic's history of each instance ends with exactly one final event.
        let finals = try fixture.records("order.sagas").filter {
            [SagaEvent.Kind.completed, .compensated, .failed].map(\.rawValue).contains($0.eventType ?? "")
        }
        #expect(finals.count == entries.count, "\(finals.count) final events for \(entries.count) sagas")
    }

    /// Starts the child, waits for "ready" and for `working` to hold (real work done), SIGKILLs
    /// it after a random delay, and returns what it printed. A child that died on its own fails
    /// the test with its last lines (its stderr goes to the test's).
    @discardableResult
    private func runChildAndKill(_ arguments: [String], context: String, working: @escaping ([String]) -> Bool) async throws -> [String] {
        let child = try ChildProcess("stream-messaging-crash-child", arguments)
        #expect(await child.waitFor { $0.contains("ready") }, "the child ended before it was ready (\(context)): \(child.output.suffix(5))")
        #expect(await child.waitFor(working), "the child did no work before the kill (\(context)): \(child.output.suffix(5))")
        // The delay is what is under test: the kill lands at a moment the child did not choose.
        try await Task.sleep(for: .milliseconds(Int.random(in: 0...150)))
        child.kill()
        let status = await child.waitForExit(seconds: 60)
        #expect(status == SIGKILL && child.process.terminationReason == .uncaughtSignal, "the child exited with \(status) before the kill (\(context)): \(child.output.suffix(5))")
        return child.output
    }
}
