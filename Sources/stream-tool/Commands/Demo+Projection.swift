import StreamStore

/// Revenue per customer, folded from every `order-placed` event: the state a service would
/// rebuild from its log after a restart or a bug fix.
struct RevenuePerCustomer: Projection {
    struct Totals: Codable, Sendable {
        var orders: Int
        var cents: Int64
    }

    let name = "revenue-per-customer"
    private static let orderPlaced = Array("order-placed".utf8)

    func initialState() -> [String: Totals] { [:] }

    func apply(_ record: StoredRecord, to totals: inout [String: Totals]) throws {
        guard record.header("event-type")?.value == Self.orderPlaced, let key = record.key,
            let cents = record.value?.withUnsafeBytes({ RevenuePerCustomer.amountCents(in: $0) })
        else { return }
        totals[String(decoding: key, as: UTF8.self), default: Totals(orders: 0, cents: 0)].orders += 1
        totals[String(decoding: key, as: UTF8.self), default: Totals(orders: 0, cents: 0)].cents += cents
    }

    /// The number after `"amountCents":` in a JSON value, without parsing the whole value.
    static func amountCents(in value: UnsafeRawBufferPointer) -> Int64? {
        let needle = Array("\"amountCents\":".utf8)
        guard value.count > needle.count else { return nil }
        var index = 0
        while index + needle.count < value.count {
            if value[index] == needle[0] && zip(needle.indices, needle).allSatisfy({ value[index + $0] == $1 }) {
                var cursor = index + needle.count
                var amount: Int64 = 0
                var sawDigit = false
                while cursor < value.count, value[cursor] >= UInt8(ascii: "0"), value[cursor] <= UInt8(ascii: "9"), amount < Int64.max / 10 - 10 {
                    amount = amount * 10 + Int64(value[cursor] - UInt8(ascii: "0"))
                    cursor += 1
                    sawDigit = true
                }
                return sawDigit ? amount : nil
            }
            index += 1
        }
        return nil
    }

    /// `EUR 1,234.50`.
    static func euros(_ cents: Int64) -> String {
        let fraction = String(cents % 100)
        return "EUR \(Format.grouped(cents / 100)).\(fraction.count == 1 ? "0" : "")\(fraction)"
    }
}

extension StreamTool.Demo {
    /// Rebuilds ``RevenuePerCustomer`` through ``Store/rebuild(_:from:saveSnapshot:)``: from
    /// the newest snapshot when there is one (a second run folds only its own events), saving a
    /// new one, then prints the top customers.
    static func rebuildRevenue(store: Store, topic: Topic) async throws -> DemoStep {
        let stopwatch = Stopwatch()
        let result = try await store.rebuild(RevenuePerCustomer(), from: topic.name)
        let seconds = stopwatch.elapsedSeconds
        let report = result.report
        let records = Int64(report.replayedRecords)
        let source = report.snapshotSequence.map { "snapshot \($0) plus the \(Format.grouped(records)) events after it" } ?? "a full replay of \(Format.grouped(records)) events (no snapshot yet)"
        print("Rebuilt projection \(RevenuePerCustomer().name) from \(source)")
        print("  \(Format.seconds(seconds)), \(Format.rate(Double(records), seconds: seconds)) records/s")
        for skipped in report.skippedSnapshots { print("  skipped snapshot \(skipped.path): \(skipped.reason)") }
        if let saved = report.savedSnapshotSequence { print("  saved snapshot \(saved): the next rebuild starts there") }
        let top = result.state.sorted { $0.value.cents != $1.value.cents ? $0.value.cents > $1.value.cents : $0.key < $1.key }.prefix(5)
        if !top.isEmpty {
            print("")
            var table = TextTable([("TOP CUSTOMERS", .left), ("ORDERS", .right), ("REVENUE", .right)])
            for (customer, totals) in top { table.add([customer, String(totals.orders), RevenuePerCustomer.euros(totals.cents)]) }
            print(table.render(indent: "  "), terminator: "")
        }
        return DemoStep(name: "rebuild \(RevenuePerCustomer().name)", records: records, bytes: nil, seconds: seconds)
    }
}
