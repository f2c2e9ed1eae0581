import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

@Suite struct RecordViewTests {
    @Test func headerValueIsFoundWithoutDecodingEveryHeader() throws {
        var batch = RecordBatch()
        try batch.append(
            key: nil, value: Array("v".utf8),
            headers: [RecordHeader(key: "message-id", value: "m-1"), RecordHeader(key: "tomb", value: nil), RecordHeader(key: "correlation-id", value: "c-9")])
        try batch.append(key: nil, value: Array("w".utf8))
        let stored = try #require(BatchParser.parse(batch.encoded(baseOffset: 0, appendTimeMilliseconds: 1)).batches.first)
        var found: [String?] = []
        var tombstone: Bool?
        var missing = 0
        try stored.forEachRecord { record in
            if case .some(let value) = record.headerValue(forKey: "correlation-id") {
                found.append(value.map { String(decoding: $0, as: UTF8.self) })
            } else {
                missing += 1
            }
            if case .some(let value) = record.headerValue(forKey: "tomb") { tombstone = value == nil }
        }
        #expect(found == ["c-9"])
        #expect(missing == 1)
        #expect(tombstone == true)
    }

    @Test func configDifferencesNameEachSetting() {
        let mine = TopicConfig(partitionCount: 4, flush: .everyAppend)
        let theirs = TopicConfig(partitionCount: 3, flush: .never)
        #expect(mine.differences(from: theirs) == ["partitionCount is 4, not 3", "flush is everyAppend, not never"])
        #expect(mine.differences(from: mine).isEmpty)
    }
}
