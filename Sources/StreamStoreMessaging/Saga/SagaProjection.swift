import Foundation
import StreamStore

/// Every instance of one saga, folded from its saga topic: what a ``SagaManager`` rebuilds at
/// start (from the newest snapshot, then the tail) and what tools list.
struct SagaProjection: Projection {
    struct State: Codable, Sendable, Equatable {
        var instances: [String: SagaInstance] = [:]
        /// Records of the saga topic that are not saga events (no correlation id, a value that
        /// does not decode): left out, counted.
        var skippedRecords = 0
    }

    let sagaName: String
    var name: String { "saga-manager." + sagaName }
    var version: Int { 1 }

    func initialState() -> State { State() }

    func apply(_ record: StoredRecord, to state: inout State) throws {
        guard let id = record.correlationID, let event = Self.event(of: record) else {
            state.skippedRecords += 1
            return
        }
        state.instances[id] = SagaMachine.apply([event], to: state.instances[id], id: id)
    }

    /// The saga event a record of the saga topic holds (its value), or nil.
    static func event(of record: StoredRecord) -> SagaEvent? {
        guard let value = record.value else { return nil }
        return try? JSONDecoder().decode(SagaEvent.self, from: Data(value))
    }
}
