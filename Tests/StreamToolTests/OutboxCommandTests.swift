import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox
import StreamStoreTestSupport
import Testing

/// `outbox relay` and `outbox status` against an application database made as a service makes it.
@Suite(.timeLimit(.minutes(5))) struct OutboxCommandTests {
    /// An application database with the outbox tables and `count` pending events.
    func database(_ tool: ToolRunner, events count: Int) throws -> (path: String, queue: DatabaseQueue) {
        let path = tool.folder.appendingPathComponent("app.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try OutboxSchema.migrate(queue)
        try queue.write { db in
            for number in 0..<count { try Outbox.enqueue(topic: "orders", key: "customer-\(number % 3)", value: "order \(number)", in: db) }
        }
        return (path, queue)
    }

    @Test func relayPublishesWhatIsPendingAndStatusShowsIt() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let (path, _) = try database(tool, events: 5)
        let before = try jsonObject(try await tool.succeed(["outbox", "status", "--db", path, "--json"]).stdout)
        #expect(before["pendingRows"] as? Int == 5)
        #expect((before["topics"] as? [[String: Any]])?.first?["topic"] as? String == "orders")
        let text = try await tool.succeed(["outbox", "status", "--db", path]).stdout
        #expect(text.hasPrefix("pending rows    5, the oldest waiting"), "\(text)")

        let relay = try await tool.succeed(["outbox", "relay", "--db", path, "--batch-rows", "2"])
        #expect(relay.stderr.contains("published 5 rows"), "\(relay.stderr)")
        let values = try await tool.succeed(["replay", "orders", "--format", "value"]).stdoutLines
        #expect(values == (0..<5).map { "order \($0)" })
        let after = try jsonObject(try await tool.succeed(["outbox", "status", "--db", path, "--json"]).stdout)
        #expect(after["pendingRows"] as? Int == 0 && after["publishedRows"] as? Int == 5 && after["relayErrors"] as? Int == 0)
    }

    @Test func relayFollowPublishesNewRowsUntilInterrupted() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let (path, queue) = try database(tool, events: 1)
        let relay = try tool.start(["outbox", "relay", "--db", path, "--follow", "--poll", "20ms"])
        // Another process's commits: found by the relay's poll.
        try await queue.write { db in try Outbox.enqueue(topic: "orders", key: "late", value: "written later", in: db) }
        try await waitUntil(seconds: 30) {
            (try? queue.read { db in try Int.fetchOne(db, sql: "SELECT published_rows FROM streamstore_outbox_relay") }) == 2
        }
        relay.send(SIGINT)
        #expect(await relay.waitForExit() == 0, "\(relay.stderr)")
        #expect(relay.stderr.contains("published 2 rows"), "\(relay.stderr)")
        #expect(try await tool.succeed(["replay", "orders", "--format", "value"]).stdoutLines == ["order 0", "written later"])
    }

    @Test func aMissingDatabaseOrOutboxIsAClearError() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let missing = try await tool.run(["outbox", "status", "--db", tool.folder.appendingPathComponent("none.sqlite").path])
        #expect(missing.status == 1 && missing.errorLines.count == 1 && missing.stderr.contains("There is no database"))
        let bare = tool.folder.appendingPathComponent("bare.sqlite").path
        try await DatabaseQueue(path: bare).write { db in try db.execute(sql: "CREATE TABLE t (x)") }
        let noOutbox = try await tool.run(["outbox", "relay", "--db", bare])
        #expect(noOutbox.status == 1 && noOutbox.stderr.contains("has no streamstore_outbox table"), "\(noOutbox.stderr)")
    }

    @Test func aRefusedTopicIsReportedByStatus() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "orders"])
        let (path, _) = try database(tool, events: 1)
        let relay = try await tool.run(["outbox", "relay", "--db", path])
        #expect(relay.status == 1 && relay.stderr.contains("dedupeWindowMissing"), "\(relay.stderr)")
        let status = try await tool.succeed(["outbox", "status", "--db", path]).stdout
        #expect(status.contains("relay errors    1, last at") && status.contains("no de-duplication window"), "\(status)")
    }

    @Test func benchOutboxRunsSmall() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let result = try await tool.succeed(["bench", "outbox", "--rows", "20", "--passes", "4", "--batch-rows", "1,10", "--rounds", "1", "--latency-events", "5"])
        let lines = result.stdoutLines
        #expect(lines.contains { $0.hasPrefix("Outbox relay against plain appends") }, "\(result.stdout)")
        #expect(lines.contains { $0.split(separator: " ").first == "10" }, "a row for batches of 10: \(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("Commit to visible, 5 events one at a time: p50 ") }, "\(result.stdout)")
    }
}
