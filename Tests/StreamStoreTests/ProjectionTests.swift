import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// Order events folded into totals per customer: rebuilt from snapshots plus the tail, equal to
/// a full replay; corrupt or outdated snapshots are skipped and reported.
@Suite(.timeLimit(.minutes(5))) struct ProjectionTests {
    struct Order: Codable {
        var customer: String
        var amountCents: Int
    }

    struct TotalsPerCustomer: Projection {
        var name = "totals"
        var version = 1
        func initialState() -> [String: Int] { [:] }
        func apply(_ record: StoredRecord, to totals: inout [String: Int]) throws {
            let order = try JSONDecoder().decode(Order.self, from: Data(record.value ?? []))
            totals[order.customer, default: 0] += order.amountCents
        }
    }

    private func appendOrders(_ topic: Topic, count: Int, seed: Int) async throws -> [String: Int] {
        var expected: [String: Int] = [:]
        var records: [Record] = []
        for index in 0..<count {
            let order = Order(customer: "c\((index * 7 + seed) % 13)", amountCents: (index * 31 + seed) % 1000)
            expected[order.customer, default: 0] += order.amountCents
            records.append(Record(key: Array(order.customer.utf8), value: Array(try JSONEncoder().encode(order))))
        }
        _ = try await topic.append(records)
        return expected
    }

    private func merged(_ a: [String: Int], _ b: [String: Int]) -> [String: Int] { a.merging(b, uniquingKeysWith: +) }

    @Test func snapshotPlusTailEqualsAFullReplay() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 3, flush: .never))
        let store = fixture.store!
        var expected = try await appendOrders(topic, count: 500, seed: 1)
        let first = try await store.rebuild(TotalsPerCustomer(), from: "events")
        #expect(first.state == expected)
        #expect(first.report.snapshotSequence == nil && first.report.replayedRecords == 500)
        #expect(first.report.savedSnapshotSequence == 1)

        expected = merged(expected, try await appendOrders(topic, count: 120, seed: 2))
        let second = try await store.rebuild(TotalsPerCustomer(), from: "events")
        #expect(second.report.snapshotSequence == 1)
        #expect(second.report.replayedRecords == 120, "only the tail is replayed")
        #expect(second.state == expected)
        let scratch = try await store.rebuild(TotalsPerCustomer(name: "totals-scratch"), from: "events", saveSnapshot: false)
        #expect(scratch.state == second.state)
        #expect(scratch.offsets == second.offsets)

        // Across a reopen the snapshot is still used.
        try fixture.reopen()
        let third = try await fixture.store!.rebuild(TotalsPerCustomer(), from: "events")
        #expect(third.report.snapshotSequence == 2 && third.report.replayedRecords == 0 && third.state == expected)
        #expect(third.report.savedSnapshotSequence == nil, "nothing new, no new snapshot")
    }

    @Test func aCorruptSnapshotFallsBackToAnOlderOneOrAFullReplay() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        let store = fixture.store!
        var expected = try await appendOrders(topic, count: 100, seed: 3)
        _ = try await store.rebuild(TotalsPerCustomer(), from: "events")
        expected = merged(expected, try await appendOrders(topic, count: 50, seed: 4))
        _ = try await store.rebuild(TotalsPerCustomer(), from: "events")
        let folder = fixture.path + "/__snapshots/totals/events/"
        let newest = folder + FileNames.segmentStem(baseOffset: 2) + ".snapshot"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: newest)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: newest))

        let rebuilt = try await store.rebuild(TotalsPerCustomer(), from: "events", saveSnapshot: false)
        #expect(rebuilt.state == expected)
        #expect(rebuilt.report.snapshotSequence == 1)
        #expect(rebuilt.report.replayedRecords == 50)
        #expect(rebuilt.report.skippedSnapshots.count == 1)
        #expect(rebuilt.report.skippedSnapshots.first?.reason.contains("checksum") == true)

        // Every snapshot corrupt (here: cut short): a full replay, reported.
        let oldest = folder + FileNames.segmentStem(baseOffset: 1) + ".snapshot"
        let whole = try Data(contentsOf: URL(fileURLWithPath: oldest))
        try Data(whole.prefix(whole.count - 10)).write(to: URL(fileURLWithPath: oldest))
        let full = try await store.rebuild(TotalsPerCustomer(), from: "events", saveSnapshot: false)
        #expect(full.state == expected)
        #expect(full.report.snapshotSequence == nil && full.report.replayedRecords == 150)
        #expect(full.report.skippedSnapshots.count == 2)
    }

    @Test func aNewProjectionVersionIgnoresOldSnapshots() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never))
        let store = fixture.store!
        let expected = try await appendOrders(topic, count: 40, seed: 5)
        _ = try await store.rebuild(TotalsPerCustomer(), from: "events")
        let next = try await store.rebuild(TotalsPerCustomer(version: 2), from: "events")
        #expect(next.state == expected)
        #expect(next.report.snapshotSequence == nil && next.report.replayedRecords == 40)
        #expect(next.report.skippedSnapshots.first?.reason.contains("version 1") == true)
        #expect(next.report.savedSnapshotSequence == 2)
        // Only the newest snapshots are kept.
        for _ in 0..<4 {
            _ = try await appendOrders(topic, count: 1, seed: 6)
            _ = try await store.rebuild(TotalsPerCustomer(version: 2), from: "events")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.path + "/__snapshots/totals/events").filter { $0.hasSuffix(".snapshot") }
        #expect(files.count == SnapshotStore.keptSnapshots)
    }

    @Test func aFailingFoldNamesTheRecord() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never))
        _ = try await topic.append([Record(value: "not json")], partition: 0)
        do {
            _ = try await fixture.store!.rebuild(TotalsPerCustomer(), from: "events")
            Issue.record("expected projectionFailed")
        } catch {
            #expect(error.code == .projectionFailed && error.offset == 0)
        }
    }
}
