import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// Events of three versions of one type in one topic read back, upcast, as the events written
/// at the latest version; events newer than the reader are a typed error or skipped by policy.
@Suite(.timeLimit(.minutes(2))) struct EventVersioningTests {
    /// Version 1: the amount in cents as a string, the customer as a name.
    struct OrderPlacedV1: VersionedEvent {
        static let eventType = "order-placed"
        var orderID: String
        var amount: String
        var customer: String
    }

    /// Version 2: `amount` became `totalCents`, a number.
    struct OrderPlacedV2: VersionedEvent {
        static let eventType = "order-placed"
        static let schemaVersion = 2
        var orderID: String
        var totalCents: Int
        var customer: String
    }

    /// Version 3 (the reader's): the customer became an object; a note was added (optional).
    struct OrderPlaced: VersionedEvent, Equatable {
        static let eventType = "order-placed"
        static let schemaVersion = 3
        struct Customer: Codable, Equatable {
            var name: String
        }
        var orderID: String
        var totalCents: Int
        var customer: Customer
        var note: String?
    }

    /// A version the reader does not know yet.
    struct OrderPlacedV4: VersionedEvent {
        static let eventType = "order-placed"
        static let schemaVersion = 4
        var orderID: String
    }

    struct OrderPaid: VersionedEvent, Equatable {
        static let eventType = "order-paid"
        var orderID: String
    }

    /// The reader: version 3 with upcasters from 1 and 2.
    static func decoder(newerVersions: EventDecoder.NewerVersionPolicy = .fail) -> EventDecoder {
        var decoder = EventDecoder([OrderPaid.self], newerVersions: newerVersions)
        decoder.addUpcaster(for: OrderPlaced.self, from: 1) { json in
            guard let cents = json["amount"]?.stringValue.flatMap({ Int64($0) }) else {
                throw UpcastFailure(reason: "amount is not a number of cents")
            }
            json["totalCents"] = .integer(cents)
            json["amount"] = nil
        }
        decoder.addUpcaster(for: OrderPlaced.self, from: 2) { json in
            json["customer"] = ["name": json["customer"] ?? .null]
        }
        return decoder
    }

    struct UpcastFailure: Error {
        var reason: String
    }

    /// The same order at each version.
    static func record(_ index: Int, version: Int) throws -> Record {
        let id = "o-\(index)", cents = 100 + index, name = "customer-\(index % 7)"
        switch version {
        case 1: return try Record(event: OrderPlacedV1(orderID: id, amount: String(cents), customer: name), key: id)
        case 2: return try Record(event: OrderPlacedV2(orderID: id, totalCents: cents, customer: name), key: id)
        default: return try Record(event: OrderPlaced(orderID: id, totalCents: cents, customer: .init(name: name)), key: id)
        }
    }

    private func replayedEvents(_ topic: Topic, _ decoder: EventDecoder) async throws -> [String: [any VersionedEvent]] {
        var events: [String: [any VersionedEvent]] = [:]
        for try await decoded in topic.replay().events(decoder) {
            events[String(decoding: decoded.record.key ?? [], as: UTF8.self), default: []].append(decoded.event)
        }
        return events
    }

    @Test func threeVersionsReplayedWithUpcastersEqualTheLatestVersion() async throws {
        let fixture = try StoreFixture()
        let mixed = try fixture.topic("mixed", config: TopicConfig(partitionCount: 3, flush: .never))
        let latest = try fixture.topic("latest", config: TopicConfig(partitionCount: 3, flush: .never))
        var paid: [Record] = []
        for index in 0..<90 {
            _ = try await mixed.append([try Self.record(index, version: index % 3 + 1)])
            _ = try await latest.append([try Self.record(index, version: 3)])
            if index % 10 == 0 { paid.append(try Record(event: OrderPaid(orderID: "o-\(index)"), key: "o-\(index)")) }
        }
        _ = try await mixed.append(paid)
        _ = try await latest.append(paid)

        let decoder = Self.decoder()
        let upcast = try await replayedEvents(mixed, decoder)
        let written = try await replayedEvents(latest, decoder)
        #expect(upcast.count == 90)
        #expect(upcast.keys.sorted() == written.keys.sorted())
        for (key, events) in written {
            let expected = events.compactMap { $0 as? OrderPlaced }
            let actual = upcast[key, default: []].compactMap { $0 as? OrderPlaced }
            #expect(expected.count == 1)
            #expect(actual == expected, "\(key)")
            #expect(upcast[key, default: []].compactMap { $0 as? OrderPaid } == events.compactMap { $0 as? OrderPaid })
        }
        let versions = try await mixed.replay().reduce(into: Set<String>()) { $0.insert($1.schemaVersion ?? "-") }
        #expect(versions == ["1", "2", "3"], "the topic really holds three versions")
    }

    @Test func recordsCarryTheEventHeaders() throws {
        let record = try Record(event: OrderPaid(orderID: "o-1"), key: "o-1", headers: [RecordHeader(.schemaVersion, "9"), RecordHeader(key: "tenant", value: "t")])
        #expect(record.eventType == "order-paid")
        #expect(record.schemaVersion == "1", "the type's version replaces a header given by hand")
        #expect(record.contentType == "application/json")
        #expect(record.headerString("tenant") == "t")
        #expect(try JSONValue(parsing: record.value ?? []) == ["orderID": "o-1"])
    }

    @Test func anEventNewerThanTheReaderIsATypedErrorOrSkippedByPolicy() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append([try Self.record(1, version: 3)], partition: 0)
        let newer = try await topic.append([try Record(event: OrderPlacedV4(orderID: "o-2"), key: "o-2")], partition: 0)
        _ = try await topic.append([try Self.record(3, version: 1)], partition: 0)
        let records = try fixture.readAll(topic)
        #expect(records.count == 3)

        let strict = Self.decoder()
        let error = #expect(throws: StreamStoreError.self) { try strict.decode(OrderPlaced.self, from: records[1]) }
        #expect(error?.code == .eventVersionTooNew)
        #expect(error?.offset == newer.baseOffset && error?.partition == 0)
        #expect(error?.message.contains("schema-version 4, newer than 3") == true)
        let sequenceError = await #expect(throws: StreamStoreError.self) {
            for try await _ in topic.replay().events(strict) {}
        }
        #expect(sequenceError?.code == .eventVersionTooNew)

        let lenient = Self.decoder(newerVersions: .skip)
        #expect(try lenient.decode(OrderPlaced.self, from: records[1]) == nil)
        var seen: [String] = []
        for try await decoded in topic.replay().events(lenient) {
            seen.append((decoded.event as? OrderPlaced)?.orderID ?? "?")
        }
        #expect(seen == ["o-1", "o-3"], "the newer event is passed by, the others decode")
    }

    @Test func anOldVersionWithoutItsUpcasterIsATypedError() async throws {
        var decoder = EventDecoder()
        decoder.addUpcaster(for: OrderPlaced.self, from: 2) { json in json["customer"] = ["name": json["customer"] ?? .null] }
        let old = StoredRecord(offset: 5, timestamp: 0, key: nil, value: ArraySlice(try Self.record(1, version: 1).value ?? []), headers: try Self.record(1, version: 1).headers)
        let error = #expect(throws: StreamStoreError.self) { try decoder.decode(OrderPlaced.self, from: old) }
        #expect(error?.code == .missingUpcaster)
        #expect(error?.message.contains("version 1 into 2") == true)
        #expect(error?.offset == 5)

        let fromTwo = try Self.record(1, version: 2)
        let decoded = try decoder.decode(OrderPlaced.self, from: StoredRecord(offset: 6, timestamp: 0, key: nil, value: ArraySlice(fromTwo.value ?? []), headers: fromTwo.headers))
        #expect(decoded == OrderPlaced(orderID: "o-1", totalCents: 101, customer: .init(name: "customer-1")))
    }

    @Test func recordsThatAreNotTheEventAreDecodingErrors() throws {
        let decoder = Self.decoder()
        func stored(_ value: String?, _ headers: [RecordHeader]) -> StoredRecord {
            StoredRecord(offset: 0, timestamp: 0, key: nil, value: value.map { ArraySlice(Array($0.utf8)) }, headers: headers)
        }
        let type = RecordHeader(.eventType, "order-placed")
        let cases: [(StoredRecord, String)] = [
            (stored("{}", []), "no event-type header"),
            (stored("{}", [RecordHeader(.eventType, "order-paid")]), "is a \"order-paid\" event, not \"order-placed\""),
            (stored("{}", [type, RecordHeader(.schemaVersion, "02")]), "schema-version header is \"02\""),
            (stored("{}", [type, RecordHeader(.schemaVersion, "x")]), "not a version number"),
            (stored(nil, [type, RecordHeader(.schemaVersion, "3")]), "null value"),
            (stored("{\"orderID\":1}", [type, RecordHeader(.schemaVersion, "3")]), "does not decode as OrderPlaced version 3"),
            (stored("{\"orderID\":", [type, RecordHeader(.schemaVersion, "1")]), "not valid JSON"),
            (stored("[1]", [type, RecordHeader(.schemaVersion, "1")]), "not a JSON object"),
            (stored("{\"orderID\":\"o\",\"amount\":\"ten\",\"customer\":\"c\"}", [type, RecordHeader(.schemaVersion, "1")]), "upcaster of \"order-placed\" from version 1 failed"),
        ]
        for (record, expected) in cases {
            let error = #expect(throws: StreamStoreError.self) { try decoder.decode(OrderPlaced.self, from: record) }
            #expect(error?.code == .eventDecodingFailed, "\(expected)")
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "") does not say \(expected)")
        }
        // No schema-version header: version 1, from before the type had versions.
        let unversioned = stored("{\"orderID\":\"o\",\"amount\":\"10\",\"customer\":\"c\"}", [type])
        #expect(try decoder.decode(OrderPlaced.self, from: unversioned)?.totalCents == 10)
        // decode(_:) passes by types it does not know and records of no type.
        #expect(try decoder.decode(stored("{}", [RecordHeader(.eventType, "shipped")])) == nil)
        #expect(try decoder.decode(stored("{}", [])) == nil)
    }

    @Test func anEventProjectionFoldsUpcastEventsAndStopsWithTheDecodersError() async throws {
        struct Revenue: EventProjection {
            let name = "revenue"
            let events: EventDecoder
            func initialState() -> Int { 0 }
            func apply(_ event: any VersionedEvent, from record: StoredRecord, to total: inout Int) throws {
                if let placed = event as? OrderPlaced { total += placed.totalCents }
            }
        }
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        var expected = 0
        for index in 0..<30 {
            _ = try await topic.append([try Self.record(index, version: index % 3 + 1)])
            expected += 100 + index
        }
        _ = try await topic.append([try Record(event: OrderPaid(orderID: "o-1"))])
        let store = try #require(fixture.store)
        let result = try await store.rebuild(Revenue(events: Self.decoder()), from: "events", saveSnapshot: false)
        #expect(result.state == expected)

        let newer = try await topic.append(OrderPlacedV4(orderID: "o-99"), key: "o-99")
        let error = await #expect(throws: StreamStoreError.self) {
            _ = try await store.rebuild(Revenue(events: Self.decoder()), from: "events", saveSnapshot: false)
        }
        #expect(error?.code == .eventVersionTooNew, "the decoder's code, not .projectionFailed")
        #expect(error?.topic == "events" && error?.partition == newer.partition && error?.offset == newer.baseOffset)
    }

    @Test func aConsumerDeadLettersAnEventTooNewAtOnce() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic()
        _ = try await topic.append([try Self.record(1, version: 2), try Record(event: OrderPlacedV4(orderID: "o-2"))], partition: 0)
        let store = try #require(fixture.store)
        let consumer = try store.consumer(group: "billing", topic: "events")
        defer { consumer.close() }
        let decoder = Self.decoder()
        var totals: [Int] = []
        var attempts = 0
        let report = try await consumer.process(retry: RetryPolicy(maxAttempts: 5), maxRecords: 2, sleep: { _ in }) { record in
            attempts += 1
            if let placed = try decoder.decode(OrderPlaced.self, from: record) { totals.append(placed.totalCents) }
        }
        #expect(totals == [101])
        #expect(attempts == 2, "no retries: the event fails the same way every time")
        #expect(report.deadLetters.count == 1)
        #expect(report.deadLetters.first?.error.contains("newer than 3") == true)
    }

    @Test func jsonValuesParseAndEncodeStrictly() throws {
        let text = #"{"a":[1,-2.5,1e3,true,false,null],"b":"x\"\\\/\n\u00e9\ud83d\ude00","c":{},"d":[],"e":9223372036854775808}"#
        let value = try JSONValue(parsing: Array(text.utf8))
        #expect(value["a"] == [1, -2.5, 1000.0, true, false, .null])
        #expect(value["b"]?.stringValue == "x\"\\/\né😀")
        #expect(value["e"] == .double(9223372036854775808.0), "past Int64: a double")
        #expect(value["c"] == .object([:]) && value["d"] == .array([]))
        let encoded = try value.encoded()
        #expect(try JSONValue(parsing: encoded) == value, "writing and parsing again gives the same value")
        #expect(String(decoding: try JSONValue.object(["b": 1, "a": "\u{01}"]).encoded(), as: UTF8.self) == #"{"a":"\u0001","b":1}"#)

        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\u{01}\"", "\"\\ud800\"", "tru", "{} x", "\"\\x\"", "[1e]"] {
            let error = #expect(throws: StreamStoreError.self, "\(bad.debugDescription)") { try JSONValue(parsing: Array(bad.utf8)) }
            #expect(error?.code == .eventDecodingFailed)
        }
        let deep = String(repeating: "[", count: Limits.maxEventJSONDepth + 1) + String(repeating: "]", count: Limits.maxEventJSONDepth + 1)
        let error = #expect(throws: StreamStoreError.self) { try JSONValue(parsing: Array(deep.utf8)) }
        #expect(error?.message.contains("nesting deeper") == true)
        let deepest = String(repeating: "[", count: Limits.maxEventJSONDepth) + String(repeating: "]", count: Limits.maxEventJSONDepth)
        #expect(throws: Never.self) { try JSONValue(parsing: Array(deepest.utf8)) }
        #expect((#expect(throws: StreamStoreError.self) { try JSONValue.double(.nan).encoded() })?.code == .eventEncodingFailed)
    }
}
