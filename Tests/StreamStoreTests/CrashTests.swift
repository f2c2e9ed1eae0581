import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Kills a real child process that appends with `.everyAppend` at random moments, then checks
/// that every batch it saw acknowledged is readable, intact and where it was acknowledged.
@Suite(.serialized, .tags(.slow), .timeLimit(.minutes(5))) struct CrashTests {
    static var iterations: Int { Int(ProcessInfo.processInfo.environment["STREAMSTORE_CRASH_ITERATIONS"] ?? "") ?? 6 }

    @Test(arguments: ["everyAppend", "interval:5", "never"])
    func acknowledgedAppendsSurviveSIGKILL(flush: String) async throws {
        let fixture = try StoreFixture()
        let seed = UInt64(ProcessInfo.processInfo.environment["STREAMSTORE_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        var acknowledged: [Ack] = []
        for iteration in 0..<CrashTests.iterations {
            let delayMilliseconds = Int.random(in: 20...250, using: &random)
            let acks = try await runChildAndKill(store: fixture.path, flush: flush, afterMilliseconds: delayMilliseconds)
            #expect(!acks.isEmpty, "round \(iteration) acknowledged nothing (seed \(seed), flush \(flush))")
            acknowledged += acks
            // Reopen as the next process would, and check everything acknowledged so far.
            let store = try fixture.open()
            let topic = try store.topic("crash")
            for partition in 0..<2 {
                let records = try fixture.readAll(topic, partition: partition, maxBytes: 256 * 1024)
                #expect(records.map(\.offset) == Array(0..<Int64(records.count)), "offsets dense (seed \(seed), iteration \(iteration))")
                // Compared in a plain loop and reported once: an #expect per record made the long
                // mode (make crash-test, millions of records checked per round) take hours.
                var wrong: [String] = []
                for ack in acknowledged where ack.partition == partition {
                    for offset in ack.baseOffset...ack.lastOffset {
                        let index = Int(offset)
                        guard index < records.count else {
                            wrong.append("acknowledged offset \(offset) is gone")
                            break
                        }
                        let expected = "\(ack.task):\(ack.firstSequence + Int(offset - ack.baseOffset)):\(ack.run)"
                        if records[index].valueString != expected { wrong.append("offset \(offset) holds \(records[index].valueString ?? "null"), not \(expected)") }
                    }
                }
                #expect(wrong.isEmpty, "partition \(partition): \(wrong.count) acknowledged records wrong, first: \(wrong.prefix(3)) (seed \(seed), iteration \(iteration), flush \(flush))")
            }
            try fixture.expectConsistent()
            try store.close()
            fixture.store = nil
        }
    }

    /// A consumer child is killed between handling and committing at random moments: its
    /// commits survive, the next run starts exactly at the committed offset (so a record handled
    /// but not committed comes again), and no record is ever skipped.
    @Test func consumerCommitsSurviveSIGKILLAndNothingIsSkipped() async throws {
        let fixture = try StoreFixture()
        let seed = UInt64(ProcessInfo.processInfo.environment["STREAMSTORE_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        let perPartition = 3_000
        do {
            let topic = try fixture.topic("crash", config: TopicConfig(partitionCount: 2, flush: .everyAppend))
            for partition in 0..<2 { try await fixture.append(topic, count: perPartition, batchSize: 100, partition: partition) }
            try fixture.store!.close()
            fixture.store = nil
        }
        var handled: [Int: Set<Int64>] = [0: [], 1: []]
        var committedBefore: [Int: Int64] = [0: 0, 1: 0]
        for iteration in 0..<CrashTests.iterations * 2 {
            // Each round commits something while records are left (a long run may consume them all).
            let left = committedBefore.values.contains { $0 < Int64(perPartition) }
            let lines = try await runChild(
                arguments: ["consume", fixture.path, "crash-group"], work: left ? "committed " : nil,
                afterMilliseconds: Int.random(in: 30...300, using: &random))
            var firstHandled: [Int: Int64] = [:]
            var lastCommitted: [Int: Int64] = [:]
            var lastHandled: [Int: Int64] = [:]
            for line in lines {
                let fields = line.split(separator: " ")
                guard fields.count == 3, let partition = Int(fields[1]), let offset = Int64(fields[2]) else { continue }
                if fields[0] == "handled" {
                    if firstHandled[partition] == nil { firstHandled[partition] = offset }
                    handled[partition]!.insert(offset)
                    lastHandled[partition] = offset
                } else if fields[0] == "committed" {
                    lastCommitted[partition] = offset
                }
            }
            for (partition, first) in firstHandled {
                #expect(first == committedBefore[partition], "run \(iteration) started partition \(partition) at \(first), not at the committed \(committedBefore[partition]!) (seed \(seed))")
            }
            let store = try fixture.open()
            let committed = try store.group("crash-group").committedOffsets(topic: "crash")
            if left {
                #expect(!lastCommitted.isEmpty, "run \(iteration) committed nothing (seed \(seed))")
                #expect(
                    (0..<2).contains { (committed[$0] ?? 0) > (committedBefore[$0] ?? 0) }, "run \(iteration): no committed offset moved (seed \(seed))")
            }
            for partition in 0..<2 {
                let now = committed[partition] ?? 0
                // At least what the child saw committed (durable commits), at most one past what it handled.
                #expect(now >= (lastCommitted[partition] ?? committedBefore[partition]!), "a commit was lost (seed \(seed))")
                #expect(now <= (lastHandled[partition].map { $0 + 1 } ?? committedBefore[partition]!), "a commit ran ahead of handling (seed \(seed))")
                // Nothing below the committed offset was skipped.
                #expect(handled[partition]!.count >= Int(now) && (0..<now).allSatisfy { handled[partition]!.contains($0) }, "a record was skipped (seed \(seed))")
                committedBefore[partition] = now
            }
            try store.close()
            fixture.store = nil
        }
    }

    /// A child running `Consumer.process` with poison records is killed at random moments,
    /// between a dead letter's append and its commit too: every poison record below the
    /// committed offset has its dead letter, no dead letter is of another record or ahead of
    /// the commit, no other record is skipped, and each run starts at the committed offset.
    @Test func deadLettersSurviveSIGKILLAndTheirRecordsAreNeverSkipped() async throws {
        let fixture = try StoreFixture()
        let seed = UInt64(ProcessInfo.processInfo.environment["STREAMSTORE_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        do {
            let topic = try fixture.topic("crash", config: TopicConfig(partitionCount: 2, flush: .everyAppend))
            for partition in 0..<2 { try await fixture.append(topic, count: 3_000, batchSize: 100, partition: partition) }
            try fixture.store!.close()
            fixture.store = nil
        }
        var handled: [Int: Set<Int64>] = [0: [], 1: []]
        var committedBefore: [Int: Int64] = [0: 0, 1: 0]
        var deadLettered = false
        for iteration in 0..<CrashTests.iterations * 2 {
            let left = committedBefore.values.contains { $0 < 3_000 }
            let lines = try await runChild(
                arguments: ["process", fixture.path, "crash-group"], work: left ? "handled " : nil,
                afterMilliseconds: Int.random(in: 30...300, using: &random))
            var firstSeen: [Int: Int64] = [:]
            for line in lines {
                let fields = line.split(separator: " ")
                guard fields.count == 3, fields[0] == "handled" || fields[0] == "failing", let partition = Int(fields[1]), let offset = Int64(fields[2])
                else { continue }
                if firstSeen[partition] == nil { firstSeen[partition] = offset }
                if fields[0] == "handled" { handled[partition]!.insert(offset) }
            }
            for (partition, first) in firstSeen {
                #expect(first == committedBefore[partition], "run \(iteration) started partition \(partition) at \(first), not at the committed \(committedBefore[partition]!) (seed \(seed))")
            }
            let store = try fixture.open()
            let committed = try store.group("crash-group").committedOffsets(topic: "crash")
            let letters = try fixture.deadLetterRecords(of: "crash").map { try DeadLetter($0) }
            #expect(letters.allSatisfy { $0.originTopic == "crash" && $0.group == "crash-group" && $0.attempts == 3 }, "seed \(seed)")
            for partition in 0..<2 {
                let now = committed[partition] ?? 0
                #expect(now >= committedBefore[partition]!, "a commit was lost (seed \(seed))")
                let lettered = Set(letters.filter { $0.originPartition == partition }.map(\.originOffset))
                #expect(lettered.allSatisfy { $0 % 7 == 3 && $0 <= now }, "a dead letter of a good record, or ahead of the commit \(now): \(lettered.sorted()) (seed \(seed))")
                let missing = (0..<now).filter { $0 % 7 == 3 ? !lettered.contains($0) : !handled[partition]!.contains($0) }
                #expect(missing.isEmpty, "partition \(partition) committed past \(missing.prefix(5)) without handling or dead-lettering them (seed \(seed))")
                committedBefore[partition] = now
            }
            if left {
                #expect(lines.contains { $0.hasPrefix("handled ") }, "run \(iteration) handled nothing (seed \(seed))")
            }
            if !letters.isEmpty { deadLettered = true }
            try fixture.expectConsistent()
            try store.close()
            fixture.store = nil
        }
        #expect(deadLettered, "the child dead-lettered nothing: it did not run")
    }

    /// A child appending and running retention is killed at random moments, deletions
    /// included: after each reopen the partition is consistent, its log start never moves back
    /// and is at least what the child saw, offsets are dense from it, and every acknowledged
    /// record at or after it reads back intact.
    @Test func retentionSurvivesSIGKILLMidDeletion() async throws {
        let fixture = try StoreFixture()
        let seed = UInt64(ProcessInfo.processInfo.environment["STREAMSTORE_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        var acknowledged: [Int64: String] = [:]
        var previousStart: Int64 = 0
        var deletedSomething = false
        for iteration in 0..<CrashTests.iterations * 2 {
            let lines = try await runChild(arguments: ["retention", fixture.path], work: "ack ", afterMilliseconds: Int.random(in: 30...300, using: &random))
            var seenStart = previousStart
            #expect(lines.contains { $0.hasPrefix("ack ") }, "round \(iteration) acknowledged nothing (seed \(seed))")
            for line in lines {
                let fields = line.split(separator: " ")
                if fields.count == 7, fields[0] == "ack", let base = Int64(fields[2]), let first = Int(fields[5]) {
                    for offset in base...Int64(fields[3])! {
                        acknowledged[offset] = "0:\(first + Int(offset - base)):\(fields[6])"
                    }
                } else if fields.count == 3, fields[0] == "start", let start = Int64(fields[2]) {
                    seenStart = max(seenStart, start)
                }
            }
            let store = try Store.open(at: fixture.path, options: Store.Options(retentionCheckMilliseconds: nil))
            fixture.store = store
            let topic = try store.topic("retained")
            let start = try topic.logStartOffset(partition: 0)
            #expect(start >= seenStart, "the log start went back from \(seenStart) to \(start) (seed \(seed), iteration \(iteration))")
            if start > 0 { deletedSomething = true }
            let records = try fixture.readAll(topic, partition: 0)
            #expect(records.map(\.offset) == Array(start..<(start + Int64(records.count))), "offsets dense from the log start (seed \(seed))")
            let wrong = records.filter { record in acknowledged[record.offset].map { $0 != record.valueString } ?? false }
            #expect(wrong.isEmpty, "\(wrong.count) acknowledged records changed, first at offset \(wrong.first?.offset ?? -1) (seed \(seed), iteration \(iteration))")
            let end = try topic.logEndOffset(partition: 0)
            #expect(acknowledged.keys.allSatisfy { $0 < end }, "an acknowledged record is past the log end (seed \(seed))")
            try fixture.expectConsistent()
            previousStart = start
            try store.close()
            fixture.store = nil
        }
        #expect(deletedSomething, "retention never deleted anything: the test did not test it")
    }

    /// One round: starts the child with `arguments`, waits for "ready" and for its first line
    /// starting with `work` (nil: the round may find nothing left to do), SIGKILLs it
    /// `afterMilliseconds` later, and returns what it printed. A child that ends on its own, never
    /// gets ready or does no work is a recorded failure showing its exit status and stderr.
    private func runChild(
        arguments: [String], work: String?, afterMilliseconds: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [Substring] {
        let child = try ChildProcess("stream-crash-child", arguments)
        return await child.crashRound(work: work, killAfterMilliseconds: afterMilliseconds, sourceLocation: sourceLocation).map { Substring($0) }
    }

    struct Ack {
        var partition: Int
        var baseOffset: Int64
        var lastOffset: Int64
        var task: Int
        var firstSequence: Int
        var run: UInt32
    }

    /// Starts the child, lets it append for a while, SIGKILLs it, and returns what it acknowledged.
    private func runChildAndKill(store: String, flush: String, afterMilliseconds: Int) async throws -> [Ack] {
        try await runChild(arguments: [store, flush, "4", "20"], work: "ack ", afterMilliseconds: afterMilliseconds).compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 7, fields[0] == "ack", let partition = Int(fields[1]), let base = Int64(fields[2]),
                let last = Int64(fields[3]), let task = Int(fields[4]), let first = Int(fields[5]), let run = UInt32(fields[6])
            else { return nil }
            return Ack(partition: partition, baseOffset: base, lastOffset: last, task: task, firstSequence: first, run: run)
        }
    }
}
