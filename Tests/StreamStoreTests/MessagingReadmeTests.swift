import StreamStoreTestSupport
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// The README's messaging examples ("Headers with meaning", "De-duplication", "Optimistic
/// concurrency"), run as written, with what the README says they print.
@Suite(.timeLimit(.minutes(5))) struct MessagingReadmeTests {
    @Test func aFollowUpKeepsTheCorrelationAndNamesItsCause() {
        var placed = Record(key: "o-1", value: #"{"orderId":"o-1"}"#)
        placed.setHeader(.messageID, "m-1")
        placed.setHeader(.correlationID, "checkout-42")
        placed.setHeader(.eventType, "order-placed")

        let paid = Record.followUp(to: placed, key: "o-1", value: #"{"orderId":"o-1","paid":true}"#, eventType: "order-paid")
        #expect(paid.correlationID == "checkout-42")
        #expect(paid.causationID == "m-1")
        #expect(paid.eventType == "order-paid")
        #expect(paid.messageID != nil && paid.messageID != "m-1")
    }

    @Test func aRetriedPaymentIsNotWrittenTwice() async throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let payments = try store.createTopic("payments", config: TopicConfig(dedupeWindowMilliseconds: 10 * 60_000))
        let record = Record(value: "charge 40 EUR", headers: [RecordHeader(.messageID, "pay-7f3a")])
        let first = try await payments.append([record], partition: 0)
        let retry = try await payments.append([record], partition: 0)
        #expect(first.baseOffset == 0)
        #expect(retry.isDuplicate)
        #expect(retry.offset(ofRecordAt: 0) == (partition: 0, offset: 0))
        #expect(try payments.logEndOffset(partition: 0) == 1)
    }

    @Test func concurrentWithdrawalsNeverOverdraw() async throws {
        let fixture = try StoreFixture()
        let accounts = try fixture.topic("accounts")
        _ = try await accounts.append([Record(value: "12")], partition: 0)
        // The README's loop, plus a meeting point: all six read the balance (12, at offset 1)
        // before any withdraws, so the conflicts the example exists for really happen.
        let arrived = Locked(0)
        let allRead = TestEvent()
        let conflicts = Locked(0)
        @Sendable func withdraw() async throws {
            var first = true
            while true {
                let end = try accounts.logEndOffset(partition: 0)
                let balance = try accounts.read(partition: 0, from: 0, maxBytes: 1 << 20).reduce(0) { $0 + Int($1.valueString!)! }
                if first {
                    first = false
                    if arrived.withLock({ count in count += 1; return count }) == 6 { allRead.signal() }
                    await allRead.wait()
                }
                guard balance >= 5 else { break }
                do {
                    _ = try await accounts.append([Record(value: "-5")], partition: 0, expectedNextOffset: end)
                    break
                } catch {
                    guard error.code == .offsetConflict else { throw error }
                    conflicts.withLock { $0 += 1 }
                }
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 { group.addTask { try await withdraw() } }
            try await group.waitForAll()
        }
        #expect(conflicts.withLock { $0 } >= 5, "six withdrawals expected offset 1; five must have conflicted")
        let values = try accounts.read(partition: 0, from: 0, maxBytes: 1 << 20).map { Int($0.valueString!)! }
        // 12 allows two withdrawals of 5, whatever the interleaving of the six tasks.
        #expect(values == [12, -5, -5])
    }
}
