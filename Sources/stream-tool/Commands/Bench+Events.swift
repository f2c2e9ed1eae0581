import ArgumentParser
import Foundation
import StreamStore
import StreamStoreInspect

extension StreamTool {
    /// `stream-tool bench events`: what versioned events cost a reader: decoding at the current
    /// version, decoding an old version through an upcaster, and `schema check` over a topic.
    struct BenchEvents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "events",
            abstract: "Time event decoding with and without an upcaster, and the schema check.",
            discussion: """
                Fills three topics of N events each (one partition, flush never; the fill is not \
                timed): order events written at version 2, the same events at version 1 (amount \
                a string of cents, renamed totalCents at version 2), and events of 5 types with \
                nested objects and arrays, order-placed at 3 versions. Then times, as the median \
                of --rounds runs each: a record-level replay of the version 2 topic (no decoding), \
                a replay decoding every event (EventDecoder, JSONDecoder), the same of the version \
                1 topic with the upcaster from 1 to 2, and the schema check of the 5-type topic.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Option(help: ArgumentHelp("Events per topic.", valueName: "N"))
        var records: Int = 1_000_000

        @Option(help: ArgumentHelp("Timed runs of each workload; the median is reported.", valueName: "R"))
        var rounds: Int = 3

        @Flag(help: "Print one JSON object with the results instead of text.")
        var json = false

        func validate() throws {
            guard records > 0 else { throw ValidationError("--records must be positive, not \(records).") }
            guard rounds > 0 else { throw ValidationError("--rounds must be positive, not \(rounds).") }
        }

        func run() async throws {
            try await reportingErrors {
                let bench = BenchStore(storeOptions: storeOptions, parent: root.storeOptions)
                defer {
                    if bench.isTemporary { try? FileManager.default.removeItem(atPath: bench.options.path) }
                }
                try await bench.options.withStore(createIfMissing: true) { store in
                    try await EventBench(records: records, rounds: rounds, json: json, store: store).run()
                }
            }
        }
    }
}

/// An order as `bench events` writes it at version 1 and reads it at version 2.
private struct BenchOrderV1: VersionedEvent {
    static let eventType = "bench-order"
    var orderID: String
    var amount: String
    var customer: String
    var lines: [String]
}

private struct BenchOrder: VersionedEvent {
    static let eventType = "bench-order"
    static let schemaVersion = 2
    var orderID: String
    var totalCents: Int
    var customer: String
    var lines: [String]
}

/// One `bench events` run.
private struct EventBench {
    let records: Int
    let rounds: Int
    let json: Bool
    let store: Store

    private var config: TopicConfig { TopicConfig(partitionCount: 1, flush: .never) }
    private static let batchRecords = 1000

    func run() async throws {
        let suffix = UUID().uuidString.lowercased()
        let current = try store.createTopic("bench-events-v2-\(suffix)", config: config)
        let old = try store.createTopic("bench-events-v1-\(suffix)", config: config)
        let mixed = try store.createTopic("bench-events-types-\(suffix)", config: config)
        let progress = ProgressLine()
        progress.update { "filling 3 topics of \(Format.grouped(Int64(records))) events" }
        try await fillOrders(current, old)
        try await fillTypes(mixed)
        progress.finish()

        var decoder = EventDecoder()
        decoder.addUpcaster(for: BenchOrder.self, from: 1) { json in
            json["totalCents"] = json["amount"]?.stringValue.flatMap { Int64($0) }.map { .integer($0) } ?? .null
            json["amount"] = nil
        }
        let events = decoder
        let replaySeconds = try await median { try await count(current.replay()) }
        let decodeSeconds = try await median { try await count(current.replay().events(events)) }
        let upcastSeconds = try await median { try await count(old.replay().events(events)) }
        var changes = 0
        let checkSeconds = try await median {
            let report = try await mixed.schemaReport()
            changes = report.changes.count
            return report.records
        }
        report(replay: replaySeconds, decode: decodeSeconds, upcast: upcastSeconds, check: checkSeconds, changes: changes)
    }

    /// The median of `rounds` timed runs of `body`, which returns how many events it read.
    private func median(_ body: () async throws -> Int) async throws -> Double {
        var seconds: [Double] = []
        for _ in 0..<rounds {
            let stopwatch = Stopwatch()
            let read = try await body()
            seconds.append(stopwatch.elapsedSeconds)
            guard read == records else { throw ToolError("A timed run read \(read) events, not \(records).") }
        }
        return seconds.sorted()[seconds.count / 2]
    }

    private func count<S: AsyncSequence>(_ sequence: S) async throws -> Int {
        var count = 0
        for try await _ in sequence { count += 1 }
        return count
    }

    private func fillOrders(_ current: Topic, _ old: Topic) async throws {
        let encoder = JSONEncoder()
        var newBatch: [Record] = [], oldBatch: [Record] = []
        for index in 0..<records {
            let id = "o-\(index)", customer = "customer-\(index % 1000)", lines = ["sku-\(index % 17)", "sku-\(index % 29)"]
            newBatch.append(try Record(event: BenchOrder(orderID: id, totalCents: index % 10_000, customer: customer, lines: lines), encoder: encoder))
            oldBatch.append(try Record(event: BenchOrderV1(orderID: id, amount: String(index % 10_000), customer: customer, lines: lines), encoder: encoder))
            if newBatch.count == Self.batchRecords || index == records - 1 {
                _ = try await current.append(newBatch, partition: 0)
                _ = try await old.append(oldBatch, partition: 0)
                newBatch.removeAll(keepingCapacity: true)
                oldBatch.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Events of 5 types, interleaved: order-placed at versions 1 to 3 (amount renamed total at
    /// 2, customer made an object at 3), order-paid, order-shipped with an array of parcels,
    /// customer-registered with an optional field, stock-reserved.
    static func typedEvent(_ index: Int) -> (type: String, version: Int, json: String) {
        switch index % 5 {
        case 0:
            let version = index % 15 / 5 + 1
            switch version {
            case 1: return ("order-placed", 1, #"{"orderId":"o-\#(index)","amount":\#(index % 9999),"customer":"c-\#(index % 1000)","currency":"EUR"}"#)
            case 2: return ("order-placed", 2, #"{"orderId":"o-\#(index)","total":\#(index % 9999),"customer":"c-\#(index % 1000)","currency":"EUR"}"#)
            default:
                return ("order-placed", 3, #"{"orderId":"o-\#(index)","total":\#(index % 9999),"customer":{"id":"c-\#(index % 1000)","tier":"gold"},"currency":"EUR"}"#)
            }
        case 1: return ("order-paid", 1, #"{"orderId":"o-\#(index)","paidAt":"2026-12-05T10:00:00Z","method":"card","amount":\#(index % 9999).5}"#)
        case 2:
            return ("order-shipped", 1, #"{"orderId":"o-\#(index)","parcels":[{"id":"p-1","weightGrams":\#(index % 5000)},{"id":"p-2","weightGrams":120}],"carrier":"dhl"}"#)
        case 3:
            let referrer = index % 4 == 0 ? #","referrer":"r-\#(index % 100)""# : ""
            return ("customer-registered", 1, #"{"customerId":"c-\#(index)","email":"c\#(index)@example.com","marketing":true\#(referrer)}"#)
        default: return ("stock-reserved", 1, #"{"sku":"sku-\#(index % 500)","quantity":\#(index % 7 + 1),"warehouse":"w-\#(index % 3)"}"#)
        }
    }

    private func fillTypes(_ topic: Topic) async throws {
        var batch = RecordBatch()
        for index in 0..<records {
            let event = Self.typedEvent(index)
            try batch.append(
                Record(value: event.json, headers: [RecordHeader(.eventType, event.type), RecordHeader(.schemaVersion, String(event.version))]))
            if batch.count == Self.batchRecords || index == records - 1 {
                _ = try await topic.append(batch, partition: 0)
                batch.removeAll()
            }
        }
    }

    private func report(replay: Double, decode: Double, upcast: Double, check: Double, changes: Int) {
        let perEvent = { (seconds: Double) in seconds * 1e9 / Double(records) }
        let upcastCost = perEvent(upcast) - perEvent(decode)
        if json {
            let fields: [(String, String)] = [
                ("bench", "\"events\""), ("records", "\(records)"), ("rounds", "\(rounds)"),
                ("replaySeconds", Format.fixed(replay, digits: 6)), ("decodeSeconds", Format.fixed(decode, digits: 6)),
                ("upcastSeconds", Format.fixed(upcast, digits: 6)), ("decodeNanosecondsPerEvent", Format.fixed(perEvent(decode), digits: 1)),
                ("upcastNanosecondsPerEvent", Format.fixed(perEvent(upcast), digits: 1)), ("upcastCostNanosecondsPerEvent", Format.fixed(upcastCost, digits: 1)),
                ("schemaCheckSeconds", Format.fixed(check, digits: 6)), ("schemaCheckEventsPerSecond", Format.fixed(Double(records) / check, digits: 1)),
                ("schemaCheckChanges", "\(changes)"),
            ]
            print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
            return
        }
        var table = TextTable([("WORKLOAD", .left), ("SECONDS", .right), ("EVENTS/S", .right), ("NS/EVENT", .right)])
        let rows: [(String, Double)] = [
            ("replay (records, no decoding)", replay), ("replay + decode at version 2", decode), ("replay + upcast 1 → 2 + decode", upcast),
            ("schema check, 5 types", check),
        ]
        for (name, seconds) in rows {
            table.add([name, Format.fixed(seconds, digits: 3), Format.rate(Double(records), seconds: seconds), Format.fixed(perEvent(seconds), digits: 0)])
        }
        print("bench events: \(Format.grouped(Int64(records))) events per workload, median of \(rounds) run\(rounds == 1 ? "" : "s")")
        print(table.render(indent: "  "), terminator: "")
        print("  the upcast adds \(Format.fixed(upcastCost, digits: 0)) ns per event (\(Format.fixed(upcast / decode, digits: 2))x the decode); the check found \(changes) change\(changes == 1 ? "" : "s") that are not additive")
    }
}
