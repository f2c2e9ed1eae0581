import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// The correlation filter of a sealed segment (`.cfilter`): its hash, its Bloom filter, its file
/// format, and its life beside the segment (built after a roll, checked by verify, removed with
/// the segment, never trusted when it does not match).
@Suite(.timeLimit(.minutes(5))) struct CorrelationFilterTests {
    /// XXH64 with seed 0, as computed by the reference implementation (libxxhash 0.8.1).
    @Test func xxHash64MatchesTheReferenceImplementation() {
        let vectors: [(String, UInt64)] = [
            ("", 0xEF46_DB37_51D8_E999), ("a", 0xD24E_C4F1_A98C_6E5B), ("abc", 0x44BC_2CF5_AD77_0999), ("c-1", 0x74CF_4288_1107_3375),
            ("order-4711-correlation", 0xC9BB_7098_CC44_2D8B), ("0123456789abcdef0123456789abcdef", 0x642A_9495_8E71_E6C5),
            ("3f2c8a1e-5b7d-4c9a-8e6f-1a2b3c4d5e6f", 0xE1D3_AE56_8723_7808),
        ]
        for (text, expected) in vectors {
            #expect(XXHash64.hash(Array(text.utf8)) == expected, "XXH64(\"\(text)\")")
        }
        #expect(XXHash64.hash((0..<100).map { UInt8($0) }) == 0x6AC1_E580_3216_6597, "XXH64 of the bytes 0..<100")
    }

    static let binding = CorrelationFilter.Binding(baseOffset: 4096, nextOffset: 14_096, logBytes: 1_234_567)

    static func hash(_ text: String) -> UInt64 { XXHash64.hash(Array(text.utf8)) }

    @Test func everyIdThatWentInIsFoundAndFewOthersAre() {
        var filter = CorrelationFilter(binding: Self.binding, expectedIDs: 10_000)
        for index in 0..<10_000 { filter.insert(Self.hash("order-\(index)")) }
        filter.shrink()
        #expect((0..<10_000).allSatisfy { filter.mightContain(Self.hash("order-\($0)")) })
        let falseMatches = (0..<100_000).filter { filter.mightContain(Self.hash("absent-\($0)")) }.count
        #expect(falseMatches < 2_000, "\(falseMatches) of 100,000 absent ids matched: over 2% false positives")
        #expect(filter.idCount == 10_000)
    }

    @Test func anEmptyFilterDeniesEverythingAndShrinksToOneBlock() {
        var filter = CorrelationFilter(binding: Self.binding, expectedIDs: 100_000)
        #expect(filter.blockCount > 1)
        filter.shrink()
        #expect(filter.blockCount == 1 && filter.byteCount == 80)
        #expect(!(0..<1_000).contains { filter.mightContain(Self.hash("id-\($0)")) })
    }

    @Test func aFilterSizedForManyRecordsOfFewIdsShrinksAndKeepsThem() {
        var filter = CorrelationFilter(binding: Self.binding, expectedIDs: 1_000_000)
        let before = filter.blockCount
        // A million records, but only 300 flows: each id repeats.
        for index in 0..<1_000_000 { filter.insert(Self.hash("flow-\(index % 300)")) }
        filter.shrink()
        #expect(filter.blockCount * 64 <= before, "\(before) blocks shrank only to \(filter.blockCount)")
        #expect((0..<300).allSatisfy { filter.mightContain(Self.hash("flow-\($0)")) })
    }

    @Test func theFileRoundTripsAndAnyDamageIsRejected() throws {
        var filter = CorrelationFilter(binding: Self.binding, expectedIDs: 500)
        for index in 0..<500 { filter.insert(Self.hash("c-\(index)")) }
        filter.shrink()
        let bytes = filter.encoded()
        #expect(bytes.count == filter.byteCount)
        #expect(Array(bytes[0..<4]) == Array("SSCF".utf8) && bytes[4] == 0 && bytes[5] == 1 && bytes[6] == 1)
        #expect(try CorrelationFilter.decode(bytes) == filter)

        func rejection(_ damaged: [UInt8]) -> String? {
            do throws(CorrelationFilter.Invalid) {
                _ = try CorrelationFilter.decode(damaged)
                return nil
            } catch {
                return error.reason
            }
        }
        for position in [0, 5, 9, 20, 41, 44, bytes.count / 2, bytes.count - 1] {
            var damaged = bytes
            damaged[position] ^= 0x10
            #expect(rejection(damaged) != nil, "a flipped bit at byte \(position) was accepted")
        }
        #expect(rejection(Array(bytes.dropLast(32))) != nil)
        #expect(rejection(Array(bytes.prefix(40))) != nil)
        var newer = bytes
        newer[5] = 2
        #expect(rejection(newer)?.contains("version 2") == true)
    }

    // MARK: Beside the segments of a store

    /// A topic of 4 KiB segments with a correlation id on every record.
    static func fill(_ topic: Topic, records: Int, partition: Int = 0, id: (Int) -> String = { "flow-\($0 / 3)" }) async throws {
        for start in stride(from: 0, to: records, by: 20) {
            let batch = (start..<min(start + 20, records)).map { index in
                Record(key: "k-\(index)", value: "event \(index) with a little padding", headers: [RecordHeader(.correlationID, id(index))])
            }
            _ = try await topic.append(batch, partition: partition)
        }
    }

    static func filterFiles(_ fixture: StoreFixture, partition: Int = 0) throws -> [String] {
        try fixture.segmentFiles(partition: partition, suffix: ".cfilter")
    }

    @Test func everySealedSegmentGetsAFilterAfterItRollsAndTheActiveOneNone() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never))
        try await Self.fill(topic, records: 600)
        let store = try #require(fixture.store)
        store.correlationFilters.waitUntilIdle()
        let logs = try fixture.segmentFiles()
        #expect(logs.count > 3)
        let filters = try Self.filterFiles(fixture)
        #expect(filters == logs.dropLast().map { $0.replacingOccurrences(of: ".log", with: ".cfilter") })

        let first = try CorrelationFilter.decode(Array(try Data(contentsOf: URL(fileURLWithPath: filters[0]))))
        let firstLogBytes = Int64(try fixture.fileSize(logs[0]))
        let secondBase = try #require(FileNames.baseOffset(ofSegmentFile: (logs[1] as NSString).lastPathComponent))
        #expect(first.binding == CorrelationFilter.Binding(baseOffset: 0, nextOffset: secondBase, logBytes: firstLogBytes))
        #expect(first.mightContain(Self.hash("flow-0")) && first.idCount == first.binding.nextOffset)

        let reports = try topic.verify(partition: 0)
        #expect(reports.dropLast().allSatisfy { $0.correlationFilter == .ok && $0.problems.isEmpty })
        #expect(reports.last?.correlationFilter == .notApplicable)
    }

    @Test func aStoreWithoutFiltersWritesNone() async throws {
        let fixture = try StoreFixture()
        let store = try Store.open(at: fixture.path, options: Store.Options(clock: fixture.clock, usesCorrelationFilters: false))
        fixture.store = store
        let topic = try store.createTopic("events", config: TopicConfig(segmentBytes: 4096, flush: .never))
        try await Self.fill(topic, records: 300)
        store.correlationFilters.waitUntilIdle()
        #expect(try fixture.segmentFiles().count > 2)
        #expect(try Self.filterFiles(fixture).isEmpty)
        #expect(try topic.verify(partition: 0).allSatisfy { $0.correlationFilter == .notApplicable })
    }

    @Test func verifyReportsADamagedFilterAndOneThatLacksAnId() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never))
        try await Self.fill(topic, records: 400)
        fixture.store!.correlationFilters.waitUntilIdle()
        let filters = try Self.filterFiles(fixture)
        #expect(filters.count >= 2)
        try fixture.flipByte(at: CorrelationFilter.headerBytes + 3, in: filters[0])
        // A well-formed filter for the right segment that holds none of its ids.
        let intact = try CorrelationFilter.decode(Array(try Data(contentsOf: URL(fileURLWithPath: filters[1]))))
        try Data(CorrelationFilter(binding: intact.binding, expectedIDs: 1).encoded()).write(to: URL(fileURLWithPath: filters[1]))

        let reports = try topic.verify(partition: 0)
        #expect(reports[0].correlationFilter == .bad)
        #expect(reports[0].problems.contains { $0.contains("CRC32C") && $0.contains(".cfilter") })
        #expect(reports[1].correlationFilter == .bad)
        #expect(reports[1].problems.contains { $0.contains("lacks") && $0.contains("first at offset \(intact.binding.baseOffset)") })
        #expect(reports.dropFirst(2).allSatisfy { $0.problems.isEmpty })
    }

    @Test func retentionDeletesAFilterWithItsSegment() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never, retentionMilliseconds: nil, retentionBytes: 12_000))
        try await Self.fill(topic, records: 600)
        fixture.store!.correlationFilters.waitUntilIdle()
        let before = try Self.filterFiles(fixture)
        let report = try fixture.store!.enforceRetention()[0]
        #expect(!report.deleted.isEmpty)
        let deleted = Set(report.deleted.map { FileNames.correlationFilterFile(folder: fixture.partitionFolder(), baseOffset: $0.baseOffset) })
        #expect(deleted.isSubset(of: Set(before)))
        #expect(try Self.filterFiles(fixture) == before.filter { !deleted.contains($0) })
        let filterCount = try Self.filterFiles(fixture).count
        #expect(try fixture.segmentFiles().count == filterCount + 1)
        try fixture.expectConsistent()
    }

    @Test func aFilterWithoutItsLogIsDeletedOnOpen() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never))
        try await Self.fill(topic, records: 100)
        try fixture.store?.close()
        fixture.store = nil
        let orphan = FileNames.correlationFilterFile(folder: fixture.partitionFolder(), baseOffset: 999_999)
        try Data(CorrelationFilter(binding: .init(baseOffset: 999_999, nextOffset: 1_000_000, logBytes: 100), expectedIDs: 1).encoded())
            .write(to: URL(fileURLWithPath: orphan))
        try fixture.open()
        #expect(!FileManager.default.fileExists(atPath: orphan))
    }

    @Test func recoveryThatCutsASealedSegmentDeletesItsFilter() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never))
        try await Self.fill(topic, records: 400)
        fixture.store!.correlationFilters.waitUntilIdle()
        let logs = try fixture.segmentFiles()
        let filters = try Self.filterFiles(fixture)
        #expect(filters.count == logs.count - 1 && filters.count >= 2)
        // As if the store had crashed before the sealed segments were fsynced (no clean marker,
        // recovery point at the first segment), with damage in the second one.
        try fixture.store?.close()
        fixture.store = nil
        try FileManager.default.removeItem(atPath: fixture.path + "/clean-shutdown")
        try Data(Checkpoint(logStartOffset: 0, recoveryPoint: 0).encoded()).write(to: URL(fileURLWithPath: fixture.partitionFolder() + "/checkpoints"))
        try fixture.flipByte(at: 100, in: logs[1])
        try fixture.open()
        let recovery = try #require(fixture.store?.recoveries.first)
        #expect(recovery.truncatedBytes > 0)
        #expect(try Self.filterFiles(fixture) == [filters[0]], "the cut segment and those after it lost their filters")
        try fixture.expectConsistent()
    }
}
