import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Many processes on one store: a writer process and reader processes that tail it
/// (stream-crash-child's `fill` and `tail` modes), checked against the log itself.
@Suite("Reader processes", .serialized, .tags(.slow), .timeLimit(.minutes(10)))
struct ReaderProcessTests {
    /// Kills of the writer per flush policy (two policies: 20 kills a run); `make crash-test`
    /// raises it.
    static var killIterations: Int { Int(ProcessInfo.processInfo.environment["STREAMSTORE_READER_KILLS"] ?? "") ?? 10 }

    struct Seen: Hashable {
        var partition: Int
        var offset: Int64
        var crc: UInt32
    }

    static func parse(_ lines: [String]) -> [Seen] {
        lines.compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 4, fields[0] == "seen", let partition = Int(fields[1]), let offset = Int64(fields[2]), let crc = UInt32(fields[3])
            else { return nil }
            return Seen(partition: partition, offset: offset, crc: crc)
        }
    }

    /// Every record of `topic` as a reader should have seen it, partition by partition.
    static func logContents(_ fixture: StoreFixture, _ topic: Topic) throws -> [Int: [Seen]] {
        var result: [Int: [Seen]] = [:]
        for partition in 0..<topic.partitionCount {
            result[partition] = try fixture.readAll(topic, partition: partition, maxBytes: 1 << 20).map { record in
                Seen(partition: partition, offset: record.offset, crc: (record.value ?? []).withUnsafeBytes { CRC32C.checksum($0) })
            }
        }
        return result
    }

    /// The offset after the last record a reader printed, per partition: found from the end of
    /// its output, so a wait that checks it after every line a reader prints stays cheap when
    /// readers print hundreds of thousands of them (parsing all of them each time kept a busy
    /// machine's test process behind its readers for over a minute).
    static func reached(_ lines: [String], partitions: Int) -> [Int: Int64] {
        var found: [Int: Int64] = [:]
        for line in lines.reversed() where found.count < partitions {
            if let seen = parse([line]).first, found[seen.partition] == nil { found[seen.partition] = seen.offset + 1 }
        }
        return found
    }

    static func byPartition(_ seen: [Seen]) -> [Int: [Seen]] {
        Dictionary(grouping: seen, by: \.partition)
    }

    /// Nil when `seen` is `expected`, else where they part (a whole array would flood the log).
    static func difference(_ seen: [Seen], _ expected: [Seen]) -> String? {
        guard seen != expected else { return nil }
        let at = (0..<min(seen.count, expected.count)).first { seen[$0] != expected[$0] } ?? min(seen.count, expected.count)
        let saw = at < seen.count ? "\(seen[at])" : "nothing"
        let wanted = at < expected.count ? "\(expected[at])" : "nothing"
        return "\(seen.count) records seen, \(expected.count) in the log; record \(at): saw \(saw), the log has \(wanted)"
    }

    @Test func threeReaderProcessesSeeEveryRecordOnceInOrderWhileAWriterAppendsAtFullSpeed() async throws {
        let fixture = try StoreFixture()
        let count = 60_000
        _ = try fixture.topic("load", config: TopicConfig(partitionCount: 2, segmentBytes: 256 * 1024, flush: .never))
        try fixture.store?.close()
        fixture.store = nil

        let readers = try (0..<3).map { _ in try ChildProcess("stream-crash-child", ["tail", fixture.path, "load", "\(count)"]) }
        for reader in readers { #expect(await reader.waitFor { $0.contains("ready") }, reader.failure("a reader never printed ready")) }
        let writer = try ChildProcess("stream-crash-child", ["fill", fixture.path, "load", "\(count)"])
        #expect(await writer.waitForExit() == 0 && !writer.wasKilled(), writer.failure("the writer failed"))
        #expect(writer.output == ["filled"])
        for reader in readers {
            #expect(await reader.waitForExit() == 0 && !reader.wasKilled(), reader.failure("a reader failed"))
            #expect(reader.output.last == "end \(count)")
        }

        let expected = try Self.logContents(fixture, try fixture.open().topic("load"))
        #expect(expected.values.reduce(0) { $0 + $1.count } == count)
        for (index, reader) in readers.enumerated() {
            let seen = Self.byPartition(Self.parse(reader.output))
            for partition in 0..<2 {
                // Exactly once, in offset order, byte-equal (the CRC of every value).
                let difference = Self.difference(seen[partition] ?? [], expected[partition] ?? [])
                #expect(difference == nil, "reader \(index), partition \(partition)")
            }
        }
    }

    @Test(arguments: ["never", "everyAppend"])
    func readersNeverSeeARecordThatTheWritersRecoveryLoses(flush: String) async throws {
        let seed = TestSeed.value
        var random = SplitMix64(seed: seed)
        for iteration in 0..<Self.killIterations {
            let fixture = try StoreFixture()
            let policy = try #require(FlushPolicy(configValue: flush))
            // The same topic the crash child creates, so its createTopic finds it as it is.
            _ = try fixture.topic("crash", config: TopicConfig(partitionCount: 2, segmentBytes: 64 * 1024, indexIntervalBytes: 1024, flush: policy))
            try fixture.store?.close()
            fixture.store = nil

            let readers = try (0..<2).map { _ in try ChildProcess("stream-crash-child", ["tail", fixture.path, "crash", "0"]) }
            for reader in readers { #expect(await reader.waitFor { $0.contains("ready") }, reader.failure("a reader never printed ready")) }
            let writer = try ChildProcess("stream-crash-child", [fixture.path, flush, "4", "20"])
            // The kill lands at a random moment: once a reader has seen a random number of records.
            let threshold = random.upTo(3_000) + 1
            #expect(
                await readers[0].waitFor { $0.count > threshold },
                readers[0].failure("the reader saw fewer than \(threshold) records (seed \(seed), iteration \(iteration)); writer: \(writer.failure("writer"))"))
            // The round did work: the writer acknowledged appends, and was still appending when killed.
            // (A reader may see records before the writer has printed their acknowledgement.)
            #expect(
                await writer.waitFor { $0.last { $0.hasPrefix("ack ") } != nil },
                writer.failure("the writer acknowledged nothing (seed \(seed), iteration \(iteration))"))
            writer.kill()
            await writer.waitForExit()
            #expect(writer.wasKilled(), writer.failure("the writer ended before it was killed (seed \(seed), iteration \(iteration))"))

            // A writer restarts: recovery, then ten more records in each partition.
            let store = try fixture.open()
            let topic = try store.topic("crash")
            for partition in 0..<2 {
                _ = try await topic.append((0..<10).map { Record(value: Array("after restart \($0)".utf8)) }, partition: partition)
            }
            let expected = try Self.logContents(fixture, topic)
            let ends = (0..<2).map { try? topic.logEndOffset(partition: $0) }
            for reader in readers {
                // A bound for a reader that stopped following, not a measure of speed: on a busy
                // machine a reader catching up with 200,000 records has taken over a minute.
                let caughtUp = await reader.waitFor(seconds: 300) { lines in
                    let reached = Self.reached(lines, partitions: 2)
                    return (0..<2).allSatisfy { reached[$0] == ends[$0] }
                }
                #expect(caughtUp, reader.failure("a reader did not follow the restarted writer (seed \(seed), iteration \(iteration))"))
                reader.kill()
                await reader.waitForExit()
                #expect(reader.wasKilled(), reader.failure("a reader ended before it was killed (seed \(seed), iteration \(iteration))"))
                let seen = Self.byPartition(Self.parse(reader.output))
                for partition in 0..<2 {
                    // Everything a reader saw is in the recovered log, byte-equal, once and in order.
                    let difference = Self.difference(seen[partition] ?? [], expected[partition] ?? [])
                    #expect(difference == nil, "seed \(seed), iteration \(iteration), partition \(partition)")
                }
            }
            try store.close()
            fixture.store = nil
        }
    }
}
