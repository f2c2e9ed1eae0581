import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat

/// `StoredRecord` keeps one reference (its bytes) and the places of its fields in them: a record
/// read from a log points into the read buffer, a record made by hand or changed owns a copy.
/// Either way its fields read back as they were given, and equality and hashing look at the
/// fields, not at where the bytes live.
@Suite struct StoredRecordTests {
    static let headers = [
        RecordHeader(key: "trace", value: "a"), RecordHeader(key: "empty", value: []), RecordHeader(key: "null", value: nil),
        RecordHeader(key: "trace", value: "second"), RecordHeader(key: "", value: "unnamed"),
    ]

    @Test func aRecordMadeByHandReadsBackItsFields() {
        let record = StoredRecord(partition: 3, offset: 42, timestamp: 1_700_000_000_000, key: ArraySlice("k".utf8), value: ArraySlice("v".utf8), headers: Self.headers)
        #expect(record.partition == 3 && record.offset == 42 && record.timestamp == 1_700_000_000_000)
        #expect(record.keyString == "k" && record.valueString == "v")
        #expect(record.headers == Self.headers)
        #expect(record.headerCount == 5)
        // The first of two headers with one name; a null value is a header with no value.
        #expect(record.header("trace") == RecordHeader(key: "trace", value: "a"))
        #expect(record.header("null") == RecordHeader(key: "null", value: nil))
        #expect(record.header("empty") == RecordHeader(key: "empty", value: []))
        #expect(record.header("") == RecordHeader(key: "", value: "unnamed"))
        #expect(record.header("missing") == nil)

        let bare = StoredRecord(offset: 0, timestamp: 0, key: nil, value: nil, headers: [])
        #expect(bare.key == nil && bare.value == nil && bare.headers.isEmpty && bare.header("trace") == nil)
        let empty = StoredRecord(offset: 0, timestamp: 0, key: [], value: [], headers: [])
        #expect(empty.key == [] && empty.value == [])
        #expect(bare != empty)
    }

    @Test func aRecordReadFromTheLogEqualsTheSameRecordMadeByHand() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append([Record(key: "k", value: "v", headers: Self.headers, timestamp: 1_000)], partition: 0)
        _ = try await topic.append([Record(key: nil, value: nil, headers: [], timestamp: 2_000)], partition: 0)
        let read = try topic.read(partition: 0, from: 0, maxBytes: 1 << 20)
        try #require(read.count == 2)
        let byHand = StoredRecord(partition: 0, offset: 0, timestamp: 1_000, key: ArraySlice("k".utf8), value: ArraySlice("v".utf8), headers: Self.headers)
        #expect(read[0] == byHand)
        #expect(read[0].hashValue == byHand.hashValue)
        #expect(Set([read[0], byHand]).count == 1)
        #expect(read[0].header("trace")?.stringValue == "a")
        #expect(read[1] == StoredRecord(partition: 0, offset: 1, timestamp: 2_000, key: nil, value: nil, headers: []))
        var changed = byHand
        changed.headers[1].value = [0]
        #expect(read[0] != changed)
    }

    @Test func changingOneFieldLeavesTheOthers() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append([Record(key: "k", value: "value", headers: Self.headers)], partition: 0)
        let read = try #require(try topic.read(partition: 0, from: 0, maxBytes: 1 << 20).first)

        var record = read
        record.key = ArraySlice("other key".utf8)
        #expect(record.keyString == "other key" && record.valueString == "value" && record.headers == Self.headers)
        record.value = nil
        #expect(record.keyString == "other key" && record.value == nil && record.headers == Self.headers)
        record.headers.append(RecordHeader(key: "added", value: "1"))
        #expect(record.headers == Self.headers + [RecordHeader(key: "added", value: "1")])
        #expect(record.header("added")?.stringValue == "1")
        record.headers = []
        #expect(record.headerCount == 0 && record.header("trace") == nil && record.keyString == "other key")
        record.offset = 9
        #expect(record.offset == 9)
        // The record read is untouched.
        #expect(read.keyString == "k" && read.valueString == "value" && read.headers == Self.headers)
    }

    @Test func randomRecordsReadBackTheirFields() {
        var random = SplitMix64(seed: TestSeed.value)
        func bytes(_ maxCount: Int) -> [UInt8]? {
            if random.oneIn(5) { return nil }
            return (0..<random.upTo(maxCount)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        var seen: Set<StoredRecord> = []
        for index in 0..<500 {
            let key = bytes(40), value = bytes(300)
            let headers = (0..<random.upTo(5)).map { number in
                RecordHeader(key: "h\(random.upTo(2))-\(number)", value: bytes(20))
            }
            let record = StoredRecord(
                partition: index % 4, offset: Int64(index), timestamp: Int64(random.upTo(1 << 40)),
                key: key.map { ArraySlice($0) }, value: value.map { ArraySlice($0) }, headers: headers)
            #expect(record.key.map { Array($0) } == key, "\(TestSeed.replay)")
            #expect(record.value.map { Array($0) } == value, "\(TestSeed.replay)")
            #expect(record.headers == headers, "\(TestSeed.replay)")
            for header in headers {
                #expect(record.header(header.key) == headers.first { $0.key == header.key }, "\(TestSeed.replay)")
            }
            seen.insert(record)
        }
        #expect(seen.count == 500)
    }
}
