import Testing

@testable import StreamStoreFormat
@testable import StreamStoreLog

/// The message ids appended within the de-duplication window: where each went, expiry once the
/// window has passed, and the bound on how many are kept.
@Suite struct DedupeWindowTests {
    private func id(_ text: String) -> MessageID { MessageID(Array(text.utf8)) }

    /// Where the window says `text` was appended: [partition, offset].
    private func place(of text: String, in window: DedupeWindow) -> [Int64]? {
        window.lookup(id(text)).map { [Int64($0.partition), $0.offset] }
    }

    @Test func anIDKeepsThePlaceItWasFirstAppendedAt() {
        var window = DedupeWindow(windowMilliseconds: 1000, capacity: 10)
        window.insert(id("a"), partition: 0, offset: 5, timestamp: 1000)
        window.insert(id("a"), partition: 1, offset: 9, timestamp: 1500)
        window.insert(id("b"), partition: 2, offset: 7, timestamp: 1500)
        #expect(place(of: "a", in: window) == [0, 5])
        #expect(place(of: "b", in: window) == [2, 7])
        #expect(place(of: "c", in: window) == nil)
        #expect(window.count == 2)
    }

    /// An id appended at T is remembered while now - window <= T: at T + window it is still a
    /// duplicate, one millisecond later it is not.
    @Test func idsExpireOnceTheWindowHasPassedOldestFirst() {
        var window = DedupeWindow(windowMilliseconds: 1000, capacity: 10)
        window.insert(id("a"), partition: 0, offset: 0, timestamp: 1000)
        window.insert(id("b"), partition: 0, offset: 1, timestamp: 1500)
        window.expire(now: 2000)
        #expect(place(of: "a", in: window) == [0, 0])
        window.expire(now: 2001)
        #expect(place(of: "a", in: window) == nil)
        #expect(place(of: "b", in: window) == [0, 1])
        #expect(window.count == 1)
        window.expire(now: 2501)
        #expect(window.count == 0)
        #expect(window.evictedEarly == 0, "expiry is not early eviction")
    }

    /// A clock near the start of time must not wrap the cutoff round to the far future.
    @Test func anExpiryWhoseCutoffWouldOverflowForgetsNothing() {
        var window = DedupeWindow(windowMilliseconds: 1000, capacity: 10)
        window.insert(id("a"), partition: 0, offset: 0, timestamp: Int64.min)
        window.expire(now: Int64.min + 5)
        #expect(window.count == 1)
    }

    /// At the bound the oldest id goes first, before its window ended, and is counted.
    @Test func atTheBoundTheOldestIDIsForgottenEarlyAndCounted() {
        var window = DedupeWindow(windowMilliseconds: 60_000, capacity: 3)
        for (offset, name) in ["a", "b", "c", "d", "e"].enumerated() {
            window.insert(id(name), partition: 0, offset: Int64(offset), timestamp: 1000)
        }
        #expect(window.count == 3)
        #expect(window.evictedEarly == 2)
        #expect(place(of: "a", in: window) == nil && place(of: "b", in: window) == nil)
        #expect(place(of: "c", in: window) == [0, 2] && place(of: "e", in: window) == [0, 4])
        // A repeat of a remembered id takes no room and evicts nothing.
        window.insert(id("c"), partition: 0, offset: 9, timestamp: 1000)
        #expect(window.count == 3 && window.evictedEarly == 2)
    }

    /// Thousands of ids expire in order while new ones come, past the point where the spent
    /// part of the order is compacted away: the live ids stay exactly the recent ones.
    @Test func manyIDsExpireInOrderAcrossCompactions() {
        var window = DedupeWindow(windowMilliseconds: 100, capacity: 100_000)
        for step in 0..<5000 {
            window.insert(id("m\(step)"), partition: step % 3, offset: Int64(step), timestamp: Int64(step))
            if step % 250 == 249 { window.expire(now: Int64(step)) }
        }
        // Last expiry at now 4999: ids appended before 4899 are gone.
        #expect(window.count == 5000 - 4899)
        #expect(place(of: "m4898", in: window) == nil)
        #expect(place(of: "m4899", in: window) == [Int64(4899 % 3), 4899])
        #expect(place(of: "m4999", in: window) == [Int64(4999 % 3), 4999])
        #expect(place(of: "m10", in: window) == nil)
    }

    /// An append whose fsync failed was not acknowledged: its ids are forgotten so the retry is
    /// written, and only those (other partitions and earlier offsets stay).
    @Test func forgettingDropsOnlyThePartitionsIDsFromTheOffsetOn() {
        var window = DedupeWindow(windowMilliseconds: 1000, capacity: 10)
        window.insert(id("p0-4"), partition: 0, offset: 4, timestamp: 1000)
        window.insert(id("p0-5"), partition: 0, offset: 5, timestamp: 1100)
        window.insert(id("p1-5"), partition: 1, offset: 5, timestamp: 1200)
        window.insert(id("p0-6"), partition: 0, offset: 6, timestamp: 1300)
        window.forget(partition: 0, fromOffset: 5)
        #expect(place(of: "p0-4", in: window) == [0, 4])
        #expect(place(of: "p0-5", in: window) == nil && place(of: "p0-6", in: window) == nil)
        #expect(place(of: "p1-5", in: window) == [1, 5])
        // The order of the survivors still drives expiry.
        window.expire(now: 2001)
        #expect(place(of: "p0-4", in: window) == nil)
        #expect(place(of: "p1-5", in: window) == [1, 5])
        window.insert(id("p0-5"), partition: 0, offset: 5, timestamp: 2100)
        #expect(place(of: "p0-5", in: window) == [0, 5], "the retry is remembered afresh")
    }

    @Test func theWindowOfATopicWithoutDeduplicationIsInactive() {
        #expect(!DedupeWindow.inactive.isActive)
        #expect(DedupeWindow(windowMilliseconds: 1, capacity: 1).isActive)
    }
}
