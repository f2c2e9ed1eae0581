import Foundation
import StreamStore
import StreamStoreMessaging

extension StreamTool.Demo {
    /// Orders through the order saga of ``OrderSagaExample``: reserve stock, charge payment,
    /// ship, with every fifth payment declined and its stock released. Returns the saga ids to
    /// point the reader at.
    static func runSagas(store: Store, orders: Int) async throws -> (step: DemoStep, completed: String?, compensated: String?) {
        let example = try OrderSagaExample(store: store)
        // Ids stay unique across runs of the demo on one store.
        let prefix = "order-" + String(SystemClock().nowMilliseconds(), radix: 36)
        let outcome = try await example.run(orders: orders, idPrefix: prefix)
        let ledger = example.ledger
        print("Sagas: \(Format.grouped(Int64(orders))) orders through reserve-stock → charge-payment → ship (saga order, three participants as responders)")
        print("  \(outcome.completed) completed, \(outcome.compensated) compensated (payment declined, stock released), \(outcome.failed) failed")
        print("  stock reserved \(ledger.reserved.load(ordering: .relaxed)), released \(ledger.released.load(ordering: .relaxed)); payments charged \(ledger.charged.load(ordering: .relaxed)), declined \(ledger.declined.load(ordering: .relaxed)); shipped \(ledger.shipped.load(ordering: .relaxed))")
        print("  \(Format.seconds(outcome.seconds)), \(Format.rate(Double(orders), seconds: outcome.seconds)) sagas/s")
        let step = DemoStep(name: "order sagas (3 steps)", records: Int64(orders), bytes: nil, seconds: outcome.seconds)
        return (step, outcome.firstCompletedID, outcome.firstCompensatedID)
    }
}
