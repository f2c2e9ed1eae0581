import Foundation
import StreamStoreFormat

/// A clock the test moves by hand: deadlines, retention windows and timeouts pass when the
/// test says, never because a busy machine was slow.
package final class ManualClock: StoreClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: Int64

    package init(start: Int64) { now = start }

    package func nowMilliseconds() -> Int64 { lock.withLock { now } }

    package func advance(milliseconds: Int64) { lock.withLock { now += milliseconds } }
}
