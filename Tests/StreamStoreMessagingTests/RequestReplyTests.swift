import Foundation
import MetricsTestKit
import StreamStore
import StreamStoreMessaging
import StreamStoreTestSupport
import Testing

/// A requester and responders over a real store: replies reach their callers, deadlines and
/// cancellation end waits with typed errors, late and duplicate replies are dropped, and a
/// restarted requester collects what its predecessor asked for.
@Suite(.timeLimit(.minutes(5))) struct RequestReplyTests {
    /// The timeout of a request that must be answered: a bound for a stuck test, never meant to
    /// fire, so it is most of the suite's limit (a 30 s one fired when the whole suite started
    /// at once on a fresh 2-core machine and the responder waited that long for a thread).
    static let answered: Duration = .seconds(240)

    /// A responder answering `topic`'s commands with "echo VALUE" until the returned task is
    /// cancelled.
    func echo(_ fixture: MessagingFixture, topic: String = "commands", group: String = "echo", concurrency: Int = 64) throws -> Task<Void, any Error> {
        let responder = try Responder(store: fixture.store, group: group, commandTopic: topic, options: Responder.Options(maxConcurrentCommands: concurrency))
        return Task { try await responder.run { command in Reply("echo " + (command.valueString ?? "")) } }
    }

    @Test func aReplyReachesItsCallerWithTheCommandsIds() async throws {
        let fixture = try MessagingFixture()
        try fixture.topic("commands")
        let requester = try Requester(store: fixture.store, options: Requester.Options(replyTopic: "client.replies"))
        let responder = try echo(fixture)
        defer { responder.cancel() }
        let command = Record(value: "ping", headers: [RecordHeader(.messageID, "cmd-1"), RecordHeader(.correlationID, "flow-1")])
        let reply = try await requester.request(command, to: "commands", timeout: Self.answered)
        #expect(reply.valueString == "echo ping")
        #expect(reply.correlationID == "flow-1")
        #expect(reply.causationID == "cmd-1")
        #expect(reply.messageID == "cmd-1/reply")
        #expect(reply.replySucceeded == true)
        let sent = try #require(try fixture.records("commands").first)
        #expect(sent.replyTo == "client.replies")
        #expect(sent.deadlineMilliseconds != nil)
        #expect(requester.requestsInFlight == 0)
        // The whole exchange is one flow for trace.
        let traced = try fixture.store.trace(correlationID: "flow-1")
        #expect(Set(traced.records.map(\.topic)) == ["commands", "client.replies"])
        await requester.close()
    }

    /// 10,000 requests at once from many tasks, one reply consumer, four command partitions and
    /// two competing responders: every caller gets the reply to its own command.
    @Test func tenThousandConcurrentRequestsEachGetTheirOwnReply() async throws {
        let fixture = try MessagingFixture()
        try fixture.topic("commands", partitions: 4, flush: .never)
        _ = try fixture.store.createTopic("load.replies", config: TopicConfig(partitionCount: 1, flush: .never, dedupeWindowMilliseconds: 3_600_000))
        let requester = try Requester(store: fixture.store, options: Requester.Options(replyTopic: "load.replies"))
        let first = try echo(fixture, concurrency: 512)
        let second = try echo(fixture, concurrency: 512)
        defer {
            first.cancel()
            second.cancel()
        }
        let count = 10_000
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<100 {
                group.addTask {
                    var wrong = 0
                    try await withThrowingTaskGroup(of: Bool.self) { inner in
                        for number in stride(from: task, to: count, by: 100) {
                            inner.addTask {
                                let reply = try await requester.request(Record(value: "n\(number)"), to: "commands", timeout: Self.answered)
                                return reply.valueString == "echo n\(number)"
                            }
                        }
                        for try await matched in inner where !matched { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(requester.statistics.replies == count)
        #expect(requester.requestsInFlight == 0)
        #expect(try fixture.records("load.replies").count == count)
        await requester.close()
    }

    @Test func noReplyBeforeTheDeadlineIsATypedTimeout() async throws {
        let fixture = try MessagingFixture()
        try fixture.topic("nobody-listens")
        let metrics = TestMetrics()
        let requester = try Requester(store: fixture.store, options: Requester.Options(replyTopic: "client.replies", metricsFactory: metrics))
        let started = ContinuousClock.now
        do throws(MessagingError) {
            _ = try await requester.request(Record(value: "hello?"), to: "nobody-listens", timeout: .milliseconds(150))
            Issue.record("a request nobody answers got a reply")
        } catch {
            #expect(error.code == .timeout)
            // It says how long it waited, or (on a machine so busy that sending the command took
            // longer than the timeout) that the deadline had come before the wait began; it once
            // said "(0 ms)" then.
            #expect(error.message.contains("came before its deadline ("), "\(error.message)")
            #expect(error.message.hasSuffix(" ms waited.") || error.message.hasSuffix("which had already come when the wait began."), "\(error.message)")
            #expect(!error.message.contains("(0 ms)"), "\(error.message)")
        }
        // The deadline is in whole milliseconds: the wait may end up to one early.
        #expect(ContinuousClock.now - started >= .milliseconds(148))
        #expect(requester.statistics.timeouts == 1)
        #expect(requester.requestsInFlight == 0)
        #expect(try metrics.expectCounter("streamstore_request_timeouts_total", [("reply_topic", "client.replies")]).totalValue == 1)
        #expect(try metrics.expectRecorder("streamstore_requests_in_flight", [("reply_topic", "client.replies")]).lastValue == 0)
        await requester.close()
    }

    @Test func cancellingTheWaitingTaskEndsItWithCancelled() async throws {
        let fixture = try MessagingFixture()
        try fixture.topic("nobody-listens")
        let requester = try Requester(store: fixture.store, options: Requester.Options(replyTopic: "client.replies"))
        let waiting = Task { try await requester.request(Record(value: "x"), to: "nobody-listens", timeout: .seconds(600)) }
        try await waitUntil { requester.requestsInFlight == 1 }
        waiting.cancel()
        let result = await waiting.result
        guard case .failure(let error) = result, let failure = error as? MessagingError else {
            Issue.record("a cancelled request returned a reply")
            return
        }
        #expect(failure.code == .cancelled)
        #expect(requester.requestsInFlight == 0)
        await requester.close()
    }

    @Test func aFailingHandlerIsARemoteFailureForTheCaller() async throws {
        let fixture = try MessagingFixture()
        try fixture.topic("commands")
        struct OutOfStock: Error, CustomStringConvertible { var description: String { "out of stock" } }
        let responder = try Responder(store: fixture.store, group: "stock", commandTopic: "commands")
        let running = Task { try await responder.run { _ in throw OutOfStock() } }
        defer { running.cancel() }
        let requester = try Requester(store: fixture.store, options: Requester.Options(replyTopic: "client.replies"))
        do throws(MessagingError) {
            _ = try await requester.request(Record(value: "sku-1"), to: "commands", timeout: Self.answered)
            Issue.record("a failed command got a reply")
        } catch {
            #expect(error.code == .remoteFailure)
            #expect(error.message == "out of stock")
        }
        await requester.close()
    }

    /// A command whose deadline passed before its turn is skipped and reported, not answered,
    /// and committed.
    @Test func anExpiredCommandIsSkippedReportedAndCommitted() async throws {
        let fixture = try MessagingFixture()
        let commands = try fixture.topic("commands")
        _ = try fixture.topic("client.replies")
        let past = SystemClock().nowMilliseconds() - 1
        _ = try await commands.append([
            Record(value: "too late", headers: [
                RecordHeader(.messageID, "old"), RecordHeader(.replyTo, "client.replies"), RecordHeader(.deadline, String(past)),
            ]),
            Record(value: "no reply-to", headers: [RecordHeader(.messageID, "lost")]),
            Record(value: "fine", headers: [RecordHeader(.messageID, "new"), RecordHeader(.replyTo, "client.replies")]),
        ], partition: 0)
        let metrics = TestMetrics()
        let responder = try Responder(store: fixture.store, group: "workers", commandTopic: "commands", options: Responder.Options(metricsFactory: metrics))
        let events = Locked<[ResponderEvent]>([])
        try await responder.run(maxCommands: 3, onEvent: { event in events.withLock { $0.append(event) } }) { command in
            Reply("ok " + (command.valueString ?? ""))
        }
        let statistics = responder.statistics
        #expect(statistics.replied == 1 && statistics.expired == 1 && statistics.invalid == 1, "\(statistics)")
        let replies = try fixture.records("client.replies")
        #expect(replies.map(\.causationID) == ["new"])
        #expect(try fixture.store.group("workers").committedOffsets(topic: "commands")[0] == 3)
        #expect(try metrics.expectCounter("streamstore_expired_commands_total", [("group", "workers"), ("topic", "commands")]).totalValue == 1)
        let kinds = events.withLock { $0 }.map { event -> String in
            switch event {
            case .expired: "expired"
            case .invalid: "invalid"
            case .replied: "replied"
            }
        }
        #expect(kinds.sorted() == ["expired", "invalid", "replied"])
    }

    /// A reply appended after its deadline (the handler took too long) does not reach anyone:
    /// the caller timed out, and the requester drops and counts the late reply.
    ///
    /// The store, the requester and the responder read one manual clock: the command is taken
    /// before its deadline however long the responder waits for a thread (its clock stands
    /// still), and the reply is stamped after it because the test moves the clock on.
    @Test func aLateReplyIsDroppedAndCounted() async throws {
        let clock = ManualClock(start: SystemClock().nowMilliseconds())
        let fixture = try MessagingFixture(clock: clock)
        try fixture.topic("commands")
        let requester = try Requester(store: fixture.store, options: Requester.Options(replyTopic: "client.replies", clock: clock))
        let timedOut = TestEvent()
        let handling = TestEvent()
        let responder = try Responder(store: fixture.store, group: "slow", commandTopic: "commands", options: Responder.Options(clock: clock))
        let running = Task {
            try await responder.run { command in
                handling.signal()
                await timedOut.wait()
                return Reply("finally")
            }
        }
        defer { running.cancel() }
        let timeoutMilliseconds: Int64 = 200
        do throws(MessagingError) {
            _ = try await requester.request(Record(value: "x"), to: "commands", timeout: .milliseconds(timeoutMilliseconds))
            Issue.record("a reply came although the handler waits for the timeout")
        } catch {
            #expect(error.code == .timeout)
        }
        #expect(requester.statistics.timeouts == 1)
        #expect(await handling.wait(seconds: 60), "the handler never started: the test would show nothing")
        clock.advance(milliseconds: timeoutMilliseconds + 1)
        timedOut.signal()
        try await waitUntil { requester.statistics.lateReplies == 1 }
        #expect(requester.statistics.replies == 0)
        try await waitUntil { responder.statistics.replied == 1 }
        #expect(responder.statistics.expired == 0)
        await requester.close()
    }

    /// A requester that stopped after sending (a crash) and a new one on the same reply topic:
    /// the new one collects the reply by correlation id.
    @Test func aRestartedRequesterCollectsRepliesByCorrelationID() async throws {
        let fixture = try MessagingFixture()
        try fixture.topic("commands")
        let before = try Requester(store: fixture.store, options: Requester.Options(replyTopic: "client.replies"))
        let sent = try await before.send(Record(value: "remember me"), to: "commands", timeout: Self.answered)
        await before.close()
        let responder = try echo(fixture)
        defer { responder.cancel() }
        try await waitUntil { (try? fixture.records("client.replies").count) == 1 }
        let after = try Requester(store: fixture.store, options: Requester.Options(replyTopic: "client.replies"))
        let reply = try await after.reply(to: sent.correlationID, timeout: Self.answered)
        #expect(reply.valueString == "echo remember me")
        #expect(reply.causationID == sent.messageID)
        await after.close()
    }

    /// A responder that handles commands again (its commits lost, as after a crash) appends the
    /// same replies again: the reply topic's window keeps one of each.
    @Test func aRetriedResponderReplyIsDroppedByTheDedupeWindow() async throws {
        let fixture = try MessagingFixture()
        let commands = try fixture.topic("commands")
        _ = try fixture.topic("client.replies")
        for number in 0..<20 {
            _ = try await commands.append([
                Record(value: "c\(number)", headers: [RecordHeader(.messageID, "c\(number)"), RecordHeader(.replyTo, "client.replies")]),
            ], partition: 0)
        }
        let handled = Locked(0)
        for _ in 0..<2 {
            let responder = try Responder(store: fixture.store, group: "workers", commandTopic: "commands")
            try await responder.run(maxCommands: 20) { command in
                handled.withLock { $0 += 1 }
                return Reply("done " + (command.valueString ?? ""))
            }
            await responder.close()
            try await fixture.store.group("workers").reset(topic: "commands", to: .beginning)
        }
        #expect(handled.withLock { $0 } == 40)
        let replies = try fixture.records("client.replies")
        #expect(replies.count == 20)
        #expect(Set(replies.compactMap(\.messageID)) == Set((0..<20).map { "c\($0)/reply" }))
    }

    /// Commands of one key are handled one after another in partition order, however many run
    /// at once.
    @Test func commandsOfOneKeyAreHandledInOrder() async throws {
        let fixture = try MessagingFixture()
        let commands = try fixture.topic("commands")
        _ = try fixture.topic("client.replies")
        for number in 0..<50 {
            _ = try await commands.append([
                Record(key: "k\(number % 3)", value: "\(number)", headers: [RecordHeader(.messageID, "m\(number)"), RecordHeader(.replyTo, "client.replies")]),
            ], partition: 0)
        }
        let seen = Locked<[String: [Int]]>([:])
        let responder = try Responder(store: fixture.store, group: "workers", commandTopic: "commands", options: Responder.Options(maxConcurrentCommands: 16))
        try await responder.run(maxCommands: 50) { command in
            try await Task.sleep(for: .microseconds(Int.random(in: 0...500)))
            seen.withLock { $0[command.keyString ?? "", default: []].append(Int(command.valueString ?? "") ?? -1) }
            return Reply("ok")
        }
        for (key, values) in seen.withLock({ $0 }) {
            #expect(values == values.sorted(), "key \(key) out of order: \(values)")
        }
        #expect(seen.withLock { $0.values.map(\.count).reduce(0, +) } == 50)
    }
}
