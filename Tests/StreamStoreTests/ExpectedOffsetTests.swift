import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Optimistic concurrency: an append may state the offset it expects to be next.
@Suite(.timeLimit(.minutes(5))) struct ExpectedOffsetTests {
    @Test func anAppendAtTheExpectedOffsetSucceeds() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let first = try await topic.append([Record(value: "a")], partition: 0, expectedNextOffset: 0)
        let second = try await topic.append([Record(value: "b"), Record(value: "c")], partition: 0, expectedNextOffset: 1)
        #expect(first.baseOffset == 0 && second.baseOffset == 1 && second.lastOffset == 2)
    }

    @Test func aStaleExpectationIsAConflictThatWritesNothing() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append([Record(value: "a")], partition: 0)
        do {
            _ = try await topic.append([Record(value: "b")], partition: 0, expectedNextOffset: 0)
            Issue.record("expected a conflict")
        } catch {
            #expect(error.code == .offsetConflict)
            #expect(error.offset == 1, "the error names the actual next offset")
            #expect(error.message.contains("expectedNextOffset 1"))
        }
        #expect(values(try fixture.readAll(topic)) == ["a"])
        try fixture.expectConsistent()
    }

    @Test func concurrentWritersExpectingTheSameOffsetHaveExactlyOneWinner() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .everyAppend))
        for round in 0..<20 {
            let expected = Int64(round)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await topic.append([Record(value: "r\(round)-w\(writer)")], partition: 0, expectedNextOffset: expected)
                            return true
                        } catch {
                            #expect((error as? StreamStoreError)?.code == .offsetConflict)
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1, "round \(round)")
        }
        let records = try fixture.readAll(topic)
        #expect(records.map(\.offset) == Array(0..<20))
        #expect(Set(records.map { $0.valueString!.split(separator: "-")[0] }).count == 20)
    }

    @Test func theExpectationIsPerPartition() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        _ = try await topic.append([Record(value: "a")], partition: 0)
        let other = try await topic.append([Record(value: "b")], partition: 1, expectedNextOffset: 0)
        #expect(other.baseOffset == 0)
    }

    @Test func anEventSourcedAggregateRetriesAfterAConflict() async throws {
        // The pattern the check exists for: read the stream, decide, append expecting the end.
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        let depositors = 10
        // Every depositor reads the stream before any appends (they meet here), so all but one
        // of the first appends must conflict and retry: the retry path is what is under test.
        let arrived = Locked(0)
        let allRead = TestEvent()
        let conflicts = Locked(0)
        @Sendable func deposit(_ amount: Int) async throws {
            var conflicted = true
            var first = true
            while conflicted {
                let end = try topic.logEndOffset(partition: 0)
                let balance = try topic.read(partition: 0, from: 0, maxBytes: 1 << 20).reduce(0) { $0 + (Int($1.valueString ?? "") ?? 0) }
                if first {
                    first = false
                    if arrived.withLock({ count in count += 1; return count }) == depositors { allRead.signal() }
                    await allRead.wait()
                }
                guard balance + amount >= 0 else { return }
                do {
                    _ = try await topic.append([Record(value: "\(amount)")], partition: 0, expectedNextOffset: end)
                    conflicted = false
                } catch {
                    guard error.code == .offsetConflict else { throw error }
                    conflicts.withLock { $0 += 1 }
                }
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<depositors { group.addTask { try await deposit(5) } }
            try await group.waitForAll()
        }
        let records = try fixture.readAll(topic)
        #expect(records.count == depositors && records.allSatisfy { $0.valueString == "5" }, "each deposit exactly once")
        #expect(records.map(\.offset) == Array(0..<Int64(depositors)))
        #expect(conflicts.withLock { $0 } >= depositors - 1, "all read offset 0 first: every append but one conflicted at least once")
    }
}
