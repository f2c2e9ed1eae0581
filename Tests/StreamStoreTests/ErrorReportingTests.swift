import Foundation
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

    @Test func anUnknownTopicOfAMegabyteMakesAOneLineMessage() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let name = String(repeating: "x", count: 1 << 20)
        let error = #expect(throws: StreamStoreError.self) { try store.topic(name) }
        #expect(error?.code == .unknownTopic)
        #expect(error?.topic == name, "the field keeps the whole name for code")
        #expect(error?.message == "There is no topic \(String(repeating: "x", count: Limits.maxQuotedCharacters))….")
        #expect((error?.description.count ?? .max) < 400)
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
