import GRDB

/// Watches the application's writer connection for committed inserts into the outbox table and
/// wakes the relay: an event reaches the store a moment after its transaction commits, without
/// polling. Rows another process writes are found by the relay's poll instead.
final class OutboxInsertObserver: TransactionObserver, @unchecked Sendable {
    // GRDB calls an observer only on the writer's serial queue, so `inserted` needs no lock.
    private var inserted = false
    private let wakeup: RelayWakeup

    init(wakeup: RelayWakeup) {
        self.wakeup = wakeup
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .insert(let table) = eventKind { return table == OutboxSchema.outboxTable }
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) {
        inserted = true
        stopObservingDatabaseChangesUntilNextTransaction()
    }

    func databaseDidCommit(_ db: Database) {
        guard inserted else { return }
        inserted = false
        wakeup.signal()
    }

    func databaseDidRollback(_ db: Database) {
        inserted = false
    }
}
