import Foundation
import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Errors say what happened in their code, speak about the library, and keep long
/// user-supplied names to one readable line.
@Suite struct ErrorReportingTests {
    @Test func longNamesAreCutWithAnEllipsis() {
        #expect(quoted("orders") == "orders")
        let exact = String(repeating: "a", count: Limits.maxQuotedCharacters)
        #expect(quoted(exact) == exact)
        let long = String(repeating: "b", count: 10_000)
        #expect(quoted(long) == String(repeating: "b", count: Limits.maxQuotedCharacters) + "…")
    }

    @Test func aTopicNameOfAMegabyteIsInvalidInOneShortLine() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let name = String(repeating: "x", count: 1 << 20)
        let error = #expect(throws: StreamStoreError.self) { try store.topic(name) }
        #expect(error?.code == .invalidTopicName, "no topic can have that name, so it is not merely unknown")
        #expect(error?.topic == name, "the field keeps the whole name for code")
        #expect(error?.message.hasPrefix("\"\(String(repeating: "x", count: Limits.maxQuotedCharacters))…\" is not a valid topic name") == true)
        #expect((error?.description.count ?? .max) < 400)
    }

    @Test func aNameThatCouldNeverBeATopicIsInvalidNotUnknown() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        for name in ["../x", "a/b", "", ".", "..", "orders\n"] {
            let error = #expect(throws: StreamStoreError.self) { try store.topic(name) }
            #expect(error?.code == .invalidTopicName, "\(name.debugDescription)")
        }
        #expect((#expect(throws: StreamStoreError.self) { try store.topic("orders") })?.code == .unknownTopic)
    }

    @Test func theContextDoesNotRepeatANameTheMessageAlreadySays() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let long = String(repeating: "t", count: 200)
        let unknown = #expect(throws: StreamStoreError.self) { try store.topic(long) }
        let description = unknown?.description ?? ""
        let shown = String(repeating: "t", count: Limits.maxQuotedCharacters)
        #expect(description.components(separatedBy: shown).count == 2, "the name once: \(description)")
        #expect(description == "There is no topic \(shown)….")
        // A name the message does not say stays in the brackets, even when it is a word inside it.
        let other = StreamStoreError(.unknownTopic, "There is no topic here.", topic: "to", partition: 1)
        #expect(other.description == "There is no topic here. [topic to, partition 1]")
        let path = StreamStoreError(.notAStore, "/tmp/a is a file.", path: "/tmp/a")
        #expect(path.description == "/tmp/a is a file.")
        #expect(StreamStoreError(.notAStore, "/tmp/ab is a file.", path: "/tmp/a").description == "/tmp/ab is a file. [/tmp/a]")
    }

    @Test func messagesOfTheStoreNameNoToolCommand() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let unknownTopic = #expect(throws: StreamStoreError.self) { try store.topic("nope") }
        let unknownGroup = #expect(throws: StreamStoreError.self) { try store.group("nope", createIfMissing: false) }
        #expect(unknownTopic?.message == "There is no topic nope.")
        #expect(unknownGroup?.message == "There is no consumer group nope; a group exists once it has committed offsets.")
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        let notAStore = #expect(throws: StreamStoreError.self) { try Store.open(at: missing, options: Store.Options(createIfMissing: false)) }
        #expect(notAStore?.code == .notAStore)
        #expect(notAStore?.message == "There is no store there, and createIfMissing is off.")
    }

    /// A closed store with topic `orders`, and the path of that topic's `topic.json`.
    private func closedStoreWithOrders() throws -> (fixture: StoreFixture, manifest: String) {
        let fixture = try StoreFixture()
        _ = try fixture.topic("orders")
        try fixture.store?.close()
        fixture.store = nil
        return (fixture, FileNames.join(FileNames.join(fixture.path, "orders"), FileNames.topicConfig))
    }

    @Test func aTopicConfigNamingAnotherTopicIsAMismatchNotACorruptCheckpoint() throws {
        let (fixture, manifest) = try closedStoreWithOrders()
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        try text.replacingOccurrences(of: "\"orders\"", with: "\"payments\"").write(toFile: manifest, atomically: true, encoding: .utf8)
        let error = #expect(throws: StreamStoreError.self) { try fixture.open() }
        #expect(error?.code == .topicConfigMismatch)
        #expect(error?.message == "The topic.json of folder orders names topic payments; restore the folder's own topic.json.")
    }

    @Test func anUnreadableTopicConfigIsACorruptManifest() throws {
        let (fixture, manifest) = try closedStoreWithOrders()
        try "{ not json".write(toFile: manifest, atomically: true, encoding: .utf8)
        let error = #expect(throws: StreamStoreError.self) { try fixture.open() }
        #expect(error?.code == .corruptManifest)
        #expect(error?.path == manifest)
    }

    @Test func aStoreManifestPastItsCapIsTooLarge() throws {
        let fixture = try StoreFixture()
        try fixture.open()
        try fixture.store?.close()
        fixture.store = nil
        let manifest = FileNames.join(fixture.path, FileNames.storeManifest)
        try Data(repeating: UInt8(ascii: " "), count: Limits.maxManifestBytes + 1).write(to: URL(fileURLWithPath: manifest))
        let error = #expect(throws: StreamStoreError.self) { try fixture.open() }
        #expect(error?.code == .fileTooLarge)
    }

    @Test func aHeaderKeyPastItsLimitIsHeaderKeyTooLong() {
        var batch = RecordBatch()
        let key = String(repeating: "k", count: Limits.maxHeaderKeyBytes + 1)
        let error = #expect(throws: StreamStoreError.self) {
            try batch.append(key: nil, value: [1], headers: [RecordHeader(key: key, value: nil)])
        }
        #expect(error?.code == .headerKeyTooLong)
        #expect(batch.isEmpty)
    }

    @Test func aRecordWithoutATimestampInACreateTimeBatchGetsTheClocksTime() throws {
        let clock = ManualClock(start: 1_700_000_000_000)
        var batch = RecordBatch(clock: clock)
        try batch.append(key: nil, value: [1], timestamp: 1_000)
        clock.advance(milliseconds: 5)
        try batch.append(key: nil, value: [2])
        let (_, records) = try BatchFixtures.readAll(batch.encoded(baseOffset: 0, appendTimeMilliseconds: 0))
        #expect(records.map(\.timestamp) == [1_000, 1_700_000_000_005])
    }
}
