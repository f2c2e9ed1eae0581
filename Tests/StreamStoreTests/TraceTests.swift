import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// `Store.trace(correlationID:)`: every record of one correlation id across topics, in time
/// order, with each group's progress past it; segments skipped by their correlation filters, and
/// filters that are missing, stale or corrupt never trusted.
@Suite(.timeLimit(.minutes(5))) struct TraceTests {
    static let t0: Int64 = 1_764_410_000_000

    static func event(_ id: String, _ type: String, message: String, at timestamp: Int64? = nil, key: String? = nil) -> Record {
        Record(
            key: key, value: #"{"type":"\#(type)"}"#,
            headers: [RecordHeader(.correlationID, id), RecordHeader(.messageID, message), RecordHeader(.eventType, type)], timestamp: timestamp)
    }

    /// orders (2 partitions) and payments (1): the flow `order-1` in both, out of offset order
    /// in time, among records of other flows.
    static func twoTopics(_ fixture: StoreFixture) async throws -> (orders: Topic, payments: Topic) {
        let orders = try fixture.topic("orders", config: TopicConfig(partitionCount: 2, flush: .never))
        let payments = try fixture.topic("payments", config: TopicConfig(flush: .never))
        _ = try await orders.append([
            event("order-2", "order-placed", message: "m-20", at: t0),
            event("order-1", "order-placed", message: "m-10", at: t0 + 10, key: "customer-17"),
            event("order-1", "order-shipped", message: "m-12", at: t0 + 30),
        ], partition: 0)
        _ = try await orders.append([event("order-1", "order-updated", message: "m-11", at: t0 + 15)], partition: 1)
        _ = try await payments.append([
            event("order-2", "payment-settled", message: "m-21", at: t0 + 5),
            event("order-1", "payment-settled", message: "m-13", at: t0 + 20),
        ], partition: 0)
        return (orders, payments)
    }

    @Test func aTraceListsTheFlowAcrossTopicsInTimeOrderWithEachGroupsProgress() async throws {
        let fixture = try StoreFixture()
        _ = try await Self.twoTopics(fixture)
        let store = try #require(fixture.store)
        // billing has processed orders/0 up to offset 1 and nothing of orders/1; shipping has
        // processed all of payments and committed nothing for orders.
        try await store.group("billing").commit(topic: "orders", offsets: [0: 2, 1: 0])
        try await store.group("shipping").commit(topic: "payments", offsets: [0: 2])
        try await store.group("audit").commit(topic: "orders", offsets: [0: 1])

        let report = try store.trace(correlationID: "order-1")
        #expect(report.records.map(\.messageID) == ["m-10", "m-11", "m-13", "m-12"])
        #expect(report.records.map(\.timestamp) == [Self.t0 + 10, Self.t0 + 15, Self.t0 + 20, Self.t0 + 30])
        #expect(report.records.map { "\($0.topic)/\($0.partition)@\($0.offset)" } == ["orders/0@1", "orders/1@0", "payments/0@1", "orders/0@2"])
        #expect(report.records.map(\.eventType) == ["order-placed", "order-updated", "payment-settled", "order-shipped"])
        #expect(report.records.allSatisfy { $0.correlationID == "order-1" && $0.valueByteCount == #"{"type":"\#($0.eventType!)"}"#.utf8.count })
        #expect(report.records[0].keyString == "customer-17" && report.records[1].key == nil)

        let placed = report.records[0].groups
        #expect(placed == [
            GroupProgress(group: "audit", committedOffset: 1, processed: false),
            GroupProgress(group: "billing", committedOffset: 2, processed: true),
        ])
        #expect(report.records[1].groups.map(\.processed) == [false, false], "billing committed orders/1 at 0, audit never")
        #expect(report.records[1].groups.map(\.committedOffset) == [nil, 0])
        #expect(report.records[2].groups == [GroupProgress(group: "shipping", committedOffset: 2, processed: true)])
        #expect(report.records[3].groups.map(\.processed) == [false, false], "offset 2 is the next billing processes")
        #expect(report.groupNames == ["audit", "billing", "shipping"])
        #expect(report.problems.isEmpty)
        #expect(report.statistics.segmentsScanned == 3 && report.statistics.segmentsSkippedByFilter == 0)
        #expect(report.statistics.bytesRead > 0 && report.statistics.elapsed > .zero)
    }

    @Test func anUnknownIdGivesAnEmptyReport() async throws {
        let fixture = try StoreFixture()
        _ = try await Self.twoTopics(fixture)
        try await fixture.store!.group("billing").commit(topic: "orders", offsets: [0: 3])
        let report = try fixture.store!.trace(correlationID: "order-404")
        #expect(report.records.isEmpty && report.groupNames.isEmpty && report.problems.isEmpty)
        #expect(report.statistics.segmentsScanned == 3)
        #expect(try fixture.store!.trace(correlationID: "order").records.isEmpty, "ids compare whole, not by prefix")
    }

    @Test func topicsNarrowTheTraceAndAnUnknownTopicIsAnError() async throws {
        let fixture = try StoreFixture()
        _ = try await Self.twoTopics(fixture)
        let report = try fixture.store!.trace(correlationID: "order-1", topics: ["payments"])
        #expect(report.records.map(\.messageID) == ["m-13"])
        #expect(report.statistics.segmentsScanned == 1)
        let error = #expect(throws: StreamStoreError.self) { try fixture.store!.trace(correlationID: "order-1", topics: ["nope"]) }
        #expect(error?.code == .unknownTopic)
    }

    @Test func theFirstCorrelationHeaderIsTheRecordsIdAndNullValuesHaveNone() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append([
            Record(value: "twice", headers: [RecordHeader(.correlationID, "a"), RecordHeader(.correlationID, "b")]),
            Record(value: "null id", headers: [RecordHeader(key: HeaderName.correlationID.rawValue, value: nil as [UInt8]?)]),
            Record(value: "no headers"),
        ], partition: 0)
        #expect(try fixture.store!.trace(correlationID: "a").records.map(\.offset) == [0])
        #expect(try fixture.store!.trace(correlationID: "b").records.isEmpty)
        #expect(try fixture.store!.trace(correlationID: "").records.isEmpty)
    }

    // MARK: Correlation filters

    /// One partition of 4 KiB segments: 900 records, flows of three consecutive records.
    static func manySegments(_ fixture: StoreFixture, config: TopicConfig = TopicConfig(segmentBytes: 4096, flush: .never)) async throws -> Topic {
        let topic = try fixture.topic(config: config)
        try await CorrelationFilterTests.fill(topic, records: 900)
        fixture.store!.correlationFilters.waitUntilIdle()
        return topic
    }

    /// The sealed segments' filters as they are on disk, by segment base offset.
    static func filters(_ fixture: StoreFixture) throws -> [Int64: CorrelationFilter] {
        var result: [Int64: CorrelationFilter] = [:]
        for path in try CorrelationFilterTests.filterFiles(fixture) {
            let filter = try CorrelationFilter.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            result[filter.binding.baseOffset] = filter
        }
        return result
    }

    @Test func sealedSegmentsWhoseFilterDeniesTheIdAreSkipped() async throws {
        let fixture = try StoreFixture()
        let topic = try await Self.manySegments(fixture)
        let segmentCount = try fixture.segmentFiles().count
        let filters = try Self.filters(fixture)
        #expect(filters.count == segmentCount - 1 && segmentCount > 10)

        for flow in [0, 150, 299] {
            let id = "flow-\(flow)"
            let report = try fixture.store!.trace(correlationID: id)
            #expect(report.records.map(\.offset) == [Int64(flow * 3), Int64(flow * 3 + 1), Int64(flow * 3 + 2)], "\(id)")
            let denying = filters.values.filter { !$0.mightContain(XXHash64.hash(Array(id.utf8))) }.count
            #expect(report.statistics.segmentsSkippedByFilter == denying, "\(id)")
            #expect(report.statistics.segmentsScanned == segmentCount - denying, "\(id)")
            #expect(denying >= filters.count - 3, "\(id): \(filters.count - denying) sealed segments may hold it; its records lie in at most two")
            #expect(report.statistics.segmentsWithoutUsableFilter == 0 && report.statistics.filtersWritten == 0)
        }
        // The newest records are in the active segment, which is always scanned.
        _ = try await topic.append([Self.event("fresh", "order-placed", message: "m-fresh")], partition: 0)
        let fresh = try fixture.store!.trace(correlationID: "fresh")
        #expect(fresh.records.map(\.offset) == [900])
        #expect(fresh.statistics.segmentsScanned >= 1)
    }

    @Test func missingStaleAndCorruptFiltersAreNotTrustedAndAreRewritten() async throws {
        let fixture = try StoreFixture()
        _ = try await Self.manySegments(fixture)
        let folder = fixture.partitionFolder()
        let filters = try Self.filters(fixture)
        let bases = filters.keys.sorted()
        // Three flows, each wholly inside one sealed segment; each segment's filter goes bad in
        // its own way, and a bad one denying every id must not hide the records.
        let targets = bases.dropFirst().prefix(3).map { base in (base: base, flow: Int((base + 2) / 3)) }
        #expect(targets.count == 3 && targets.allSatisfy { Int64($0.flow * 3 + 2) < filters[$0.base]!.binding.nextOffset })
        let paths = targets.map { FileNames.correlationFilterFile(folder: folder, baseOffset: $0.base) }
        try FileManager.default.removeItem(atPath: paths[0])
        var stale = filters[targets[1].base]!.binding
        stale.logBytes += 1
        try Data(CorrelationFilter(binding: stale, expectedIDs: 1).encoded()).write(to: URL(fileURLWithPath: paths[1]))
        var corrupt = CorrelationFilter(binding: filters[targets[2].base]!.binding, expectedIDs: 1).encoded()
        corrupt[CorrelationFilter.headerBytes] ^= 0x01
        try Data(corrupt).write(to: URL(fileURLWithPath: paths[2]))

        let report = try fixture.store!.trace(correlationID: "flow-\(targets[1].flow)")
        #expect(report.records.map(\.offset) == (0..<3).map { Int64(targets[1].flow * 3 + $0) })
        #expect(report.statistics.segmentsWithoutUsableFilter == 3 && report.statistics.filtersWritten == 3)
        #expect(try Self.filters(fixture) == filters, "the rewritten filters are those the roll wrote")
        for target in targets {
            let again = try fixture.store!.trace(correlationID: "flow-\(target.flow)")
            #expect(again.records.count == 3 && again.statistics.segmentsWithoutUsableFilter == 0)
        }
        try fixture.expectConsistent()
    }

    @Test func aStoreWithoutFiltersScansEverySegmentAndFindsTheSame() async throws {
        let fixture = try StoreFixture()
        _ = try await Self.manySegments(fixture)
        let segmentCount = try fixture.segmentFiles().count
        let withFilters = try fixture.store!.trace(correlationID: "flow-77")
        try fixture.store?.close()
        fixture.store = try Store.open(at: fixture.path, options: Store.Options(clock: fixture.clock, usesCorrelationFilters: false))
        let without = try fixture.store!.trace(correlationID: "flow-77")
        #expect(without.records == withFilters.records && without.records.count == 3)
        #expect(without.statistics.segmentsScanned == segmentCount && without.statistics.segmentsSkippedByFilter == 0)
        #expect(without.statistics.bytesRead > withFilters.statistics.bytesRead)
    }

    @Test func aCompressedTopicIsTracedThroughItsFrames() async throws {
        let fixture = try StoreFixture()
        let topic = try await Self.manySegments(fixture, config: TopicConfig(segmentBytes: 4096, flush: .never, compression: .zstd(level: 3)))
        let batch = try #require(try topic.readBatches(partition: 0, from: 0).first)
        #expect(batch.header.compressionCodec == Int(Compression.zstdCodecID), "the batches on disk are zstd frames")
        #expect(try fixture.segmentFiles().count > 3)
        let report = try fixture.store!.trace(correlationID: "flow-200")
        #expect(report.records.map(\.offset) == [600, 601, 602])
        #expect(report.records.map(\.keyString) == ["k-600", "k-601", "k-602"])
        #expect(report.statistics.segmentsSkippedByFilter > 0 && report.problems.isEmpty)
        #expect(try topic.verify(partition: 0).dropLast().allSatisfy { $0.correlationFilter == .ok })
    }

    @Test func recordsThatRetentionDeletedAreNoLongerTraced() async throws {
        let fixture = try StoreFixture()
        let topic = try await Self.manySegments(fixture, config: TopicConfig(segmentBytes: 4096, flush: .never, retentionMilliseconds: nil, retentionBytes: 20_000))
        #expect(try fixture.store!.trace(correlationID: "flow-0").records.count == 3)
        try fixture.store!.enforceRetention()
        let logStart = try topic.logStartOffset(partition: 0)
        #expect(logStart > 3)
        #expect(try fixture.store!.trace(correlationID: "flow-0").records.isEmpty)
        #expect(try fixture.store!.trace(correlationID: "flow-299").records.count == 3)
    }

    @Test func aCorruptBatchIsReportedAndTheRestIsStillTraced() async throws {
        let fixture = try StoreFixture()
        _ = try await Self.manySegments(fixture)
        let logs = try fixture.segmentFiles()
        try fixture.store?.close()
        fixture.store = nil
        try FileManager.default.removeItem(atPath: logs[1].replacingOccurrences(of: ".log", with: ".cfilter"))
        try fixture.flipByte(at: 200, in: logs[1])
        try fixture.open()
        let report = try fixture.store!.trace(correlationID: "flow-299")
        #expect(report.records.count == 3)
        #expect(report.problems.count == 1 && report.problems[0].contains("CRC32C") && report.problems[0].contains("events/0"))
        #expect(report.statistics.filtersWritten == 0, "no filter is written for a segment the scan could not read whole")
    }
}
