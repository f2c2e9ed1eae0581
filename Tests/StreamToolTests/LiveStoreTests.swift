import Foundation
import StreamStore
import Testing

/// `stream-tool` from a second shell while a service keeps the store open for writing (here the
/// test process itself): every reading command opens the store read-only beside the writer.
@Suite(.timeLimit(.minutes(2)))
struct LiveStoreTests {
    /// A writer holding the store open, with 20 records in topic `t` (2 partitions), half of
    /// them of correlation id "flow-1".
    static func liveStore(_ tool: ToolRunner) async throws -> (Store, Topic) {
        let store = try Store.open(at: tool.store)
        let topic = try store.createTopic("t", config: TopicConfig(partitionCount: 2, flush: .never))
        for index in 0..<20 {
            var record = Record(value: Array("event \(index)".utf8))
            record.setHeader(.correlationID, "flow-\(index % 2)")
            _ = try await topic.append([record], partition: index % 2)
        }
        return (store, topic)
    }

    @Test func readingCommandsWorkBesideARunningWriter() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let (store, _) = try await Self.liveStore(tool)
        defer { try? store.close() }

        #expect(try await tool.succeed(["topics"]).stdoutLines == ["t"])
        #expect(try await tool.succeed(["replay", "t", "--partition", "0", "--limit", "3", "--format", "value"]).stdoutLines == ["event 0", "event 2", "event 4"])
        let described = try jsonObject(try await tool.succeed(["describe", "t", "--json"]).stdout)
        let partitions = try #require(((described["topics"] as? [[String: Any]])?.first?["partitions"] as? [[String: Any]]))
        #expect(partitions.map { $0["logEndOffset"] as? Int } == [10, 10])
        #expect(try await tool.succeed(["verify"]).stdout.contains("20 records"))
        let traced = try jsonObject(try await tool.succeed(["trace", "flow-1", "--json"]).stdout)
        #expect((traced["records"] as? [Any])?.count == 10)
        // A group consumed and committed from the second shell; its lag read from a third.
        #expect(try await tool.succeed(["replay", "t", "--group", "g", "--commit", "--format", "value"]).stdoutLines.count == 20)
        let lag = try jsonObject(try await tool.succeed(["groups", "lag", "g", "--json"]).stdout)
        let lagTopic = try #require(((lag["groups"] as? [[String: Any]])?.first?["topics"] as? [[String: Any]])?.first)
        #expect(lagTopic["lagRecords"] as? Int == 0)
        // The writer still writes: it never noticed.
        _ = try await store.topic("t").append([Record(value: Array("later".utf8))], partition: 0)
        #expect(try await tool.succeed(["replay", "t", "--group", "g", "--format", "value"]).stdoutLines == ["later"])
    }

    /// A follower that caught up sleeps until the writer publishes more: it once woke itself
    /// at once, again and again (it asked to be woken when the end passed the offset before its
    /// position, which it always had), and spun: 2.0 s of CPU in this test's 2 s before the fix,
    /// 43% of a core on a one-partition store. Its CPU time is read from /proc over a quiet
    /// stretch: a sleeping follower spends almost none of it, far below the bound.
    @Test func aFollowerThatCaughtUpSleepsUntilTheWriterAppends() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let (store, topic) = try await Self.liveStore(tool)
        defer { try? store.close() }
        let follower = try tool.start(["replay", "t", "--follow", "--format", "value"])
        defer { follower.send(SIGKILL) }
        #expect(await follower.waitForLine("event 19", seconds: 60), "\(follower.stderr)")
        let quietSeconds = 2.0
        let before = try Self.cpuSeconds(of: follower.process.processIdentifier)
        try await Task.sleep(for: .seconds(quietSeconds))
        let spent = try Self.cpuSeconds(of: follower.process.processIdentifier) - before
        #expect(spent < 0.2, "the follower spent \(spent) s of CPU in \(quietSeconds) s with nothing to read")
        // Still awake to the writer.
        _ = try await topic.append([Record(value: Array("after the quiet".utf8))], partition: 1)
        #expect(await follower.waitForLine("after the quiet", seconds: 60), "\(follower.stderr)")
    }

    /// User plus system CPU time of a process, from /proc/PID/stat (fields 14 and 15, in clock
    /// ticks; the command name before them may hold spaces, so fields are counted after its ')').
    static func cpuSeconds(of pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let afterName = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        // afterName[0] is field 3 (state): utime is field 14, stime 15.
        let ticks = try #require(Double(afterName[11])) + (try #require(Double(afterName[12])))
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test func followFromTheEndTailsTheWriterFromWhenItStarted() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        let (store, topic) = try await Self.liveStore(tool)
        defer { try? store.close() }
        let follower = try tool.start(["replay", "t", "--follow", "--from-end", "--format", "value"])
        // The follower's end is the end when it started, which this test cannot see: it appends
        // until the follower prints one, then a few more. Whatever the follower printed must be
        // a run of those appends without a gap, and nothing of the 20 records kept before.
        var appended: [String] = []
        while await !follower.waitForOutput(containing: "new", seconds: 0.05), appended.count < 400 {
            let value = "new \(appended.count)"
            appended.append(value)
            _ = try await topic.append([Record(value: Array(value.utf8))], partition: 0)
        }
        for _ in 0..<3 {
            let value = "new \(appended.count)"
            appended.append(value)
            _ = try await topic.append([Record(value: Array(value.utf8))], partition: 0)
        }
        #expect(await follower.waitForLine(appended.last ?? ""), "\(follower.stderr)")
        follower.send(SIGINT)
        #expect(await follower.waitForExit() == 0)
        let printed = follower.stdoutLines
        let first = try #require(printed.first.flatMap { appended.firstIndex(of: $0) }, "\(printed)")
        #expect(printed == Array(appended[first...]))
    }
}
