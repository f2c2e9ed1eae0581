import StreamStore
import Synchronization

extension StreamTool.Demo {
    static let billingGroup = "billing"
    /// Members of the billing group: competing consumers that share the partitions.
    static let billingConsumers = 2
    /// Billing handles this share of its backlog each run, so there is always lag to show.
    static let billingShare = (numerator: Int64(3), denominator: Int64(4))
    /// Commits are fsynced (flush always): one per this many records, not one per record.
    static let commitEveryRecords = 1000

    /// What the billing consumers share: their totals, and how many partitions reached their
    /// target. When the last one does, `allDone` finishes, and the demo cancels the members'
    /// tasks, which ends their record sequences (they would otherwise wait for appends).
    private final class Billing: Sendable {
        let handled = Atomic<Int>(0)
        let payments = Atomic<Int>(0)
        let cents = Atomic<Int64>(0)
        let partitionsDone = Atomic<Int>(0)
        let partitionCount: Int
        let targets: [Int: Int64]
        let allDone: AsyncStream<Void>
        private let allDoneContinuation: AsyncStream<Void>.Continuation

        init(targets: [Int: Int64], alreadyDone: Int) {
            self.targets = targets
            partitionCount = targets.count
            partitionsDone.store(alreadyDone, ordering: .relaxed)
            (allDone, allDoneContinuation) = AsyncStream<Void>.makeStream()
            if alreadyDone >= partitionCount { allDoneContinuation.finish() }
        }

        var isDone: Bool { partitionsDone.load(ordering: .acquiring) >= partitionCount }

        func partitionDone() {
            if partitionsDone.add(1, ordering: .acquiringAndReleasing).newValue >= partitionCount { allDoneContinuation.finish() }
        }
    }

    /// Consumer group `billing` charges settled payments: two consumers (the library's
    /// ``Consumer``) share the partitions and handle three quarters of the group's backlog,
    /// committing every ``commitEveryRecords`` records; then the demo shows the group's lag.
    /// A second run continues from the committed offsets.
    static func runBilling(store: Store, topic: Topic) async throws -> DemoStep {
        let group = try store.group(billingGroup)
        let committed = try group.committedOffsets(topic: topic.name)
        var starts: [Int: Int64] = [:]
        var targets: [Int: Int64] = [:]
        for partition in 0..<topic.partitionCount {
            let logStart = try topic.logStartOffset(partition: partition)
            let logEnd = try topic.logEndOffset(partition: partition)
            let start = min(max(committed[partition] ?? logStart, logStart), logEnd)
            starts[partition] = start
            targets[partition] = start + (logEnd - start) * billingShare.numerator / billingShare.denominator
        }
        // Every member joins before any reads, so the partitions are dealt once.
        let consumers = try (0..<billingConsumers).map { (_) throws(StreamStoreError) in try store.consumer(group: billingGroup, topic: topic.name) }
        let billing = Billing(targets: targets, alreadyDone: targets.filter { $0.value == starts[$0.key] }.count)
        let stopwatch = Stopwatch()
        if !billing.isDone {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for consumer in consumers { tasks.addTask { try await bill(consumer, billing) } }
                tasks.addTask { for await _ in billing.allDone {} }
                // The first task to end is the wait for every target, unless a member failed.
                try await tasks.next()
                tasks.cancelAll()
                try await tasks.waitForAll()
            }
        }
        for consumer in consumers { consumer.close() }
        // A partition with nothing to handle gets its position committed too, so that every
        // partition shows where the group stands.
        let unset = targets.filter { committed[$0.key] == nil && $0.value == starts[$0.key] }
        if !unset.isEmpty { try await group.commit(topic: topic.name, offsets: unset) }
        let seconds = stopwatch.elapsedSeconds
        let handled = Int64(billing.handled.load(ordering: .relaxed))
        let payments = Int64(billing.payments.load(ordering: .relaxed))
        print("Consumer group \(billingGroup): \(billingConsumers) consumers handled \(Format.grouped(handled)) events (\(billingShare.numerator)/\(billingShare.denominator) of the group's backlog), charging \(Format.grouped(payments)) payments of \(RevenuePerCustomer.euros(billing.cents.load(ordering: .relaxed)))")
        print("  \(Format.seconds(seconds)), \(Format.rate(Double(handled), seconds: seconds)) records/s, a commit every \(Format.grouped(Int64(commitEveryRecords))) records")
        print("")
        let lag = StreamTool.Groups.Lag.GroupLag(name: billingGroup, topics: [(topic.name, try group.lag(topic: topic.name))])
        print(StreamTool.Groups.Lag.text([lag]).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        return DemoStep(name: "consume (group \(billingGroup))", records: handled, bytes: nil, seconds: seconds)
    }

    /// One member's loop: handles its partitions' records below their targets and commits in
    /// batches, until its task is cancelled.
    private static func bill(_ consumer: Consumer, _ billing: Billing) async throws {
        let paymentSettled = Array("payment-settled".utf8)
        var uncommitted: [Int: Int64] = [:]
        var sinceCommit = 0
        func commit() async throws {
            for (partition, next) in uncommitted.sorted(by: { $0.key < $1.key }) { try await consumer.commit(partition: partition, nextOffset: next) }
            uncommitted.removeAll()
            sinceCommit = 0
        }
        for try await record in consumer.records {
            // Records past the target are left for the next run (the consumer reads ahead).
            guard let target = billing.targets[record.partition], record.offset < target else { continue }
            if record.header("event-type")?.value == paymentSettled,
                let cents = record.value?.withUnsafeBytes({ RevenuePerCustomer.amountCents(in: $0) })
            {
                billing.payments.add(1, ordering: .relaxed)
                billing.cents.add(cents, ordering: .relaxed)
            }
            billing.handled.add(1, ordering: .relaxed)
            uncommitted[record.partition] = record.offset + 1
            sinceCommit += 1
            let reachedTarget = record.offset + 1 == target
            if sinceCommit >= commitEveryRecords || reachedTarget { try await commit() }
            if reachedTarget { billing.partitionDone() }
        }
        try await commit()
    }
}
