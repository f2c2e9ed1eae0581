import NIOCore
import StreamStoreFormat

/// Fetch response buffers handed back after use, so a busy consumer's next response is read
/// into memory already mapped rather than freshly allocated (page faults on new response
/// buffers were a quarter of `serve`'s time while consumers fetched).
///
/// The broker keeps a copy of each response it hands out. A copy shares the response's
/// storage, so nothing is written into it while NIO may still be sending it: `clear()` reuses
/// the storage only once NIO has let go of it (it is uniquely referenced then), and otherwise
/// allocates a new one, as before. The oldest buffer is taken first, the one NIO most likely
/// finished with.
final class ResponseBuffers: Sendable {
    /// Buffers kept at most: a few fetches in flight on a few connections.
    static let capacity = 8
    /// A buffer larger than this is let go: a rare huge fetch should not pin its memory.
    static let maxRetainedBytes = 16 << 20

    private let pool = Locked<[ByteBuffer]>([])

    /// A cleared buffer, reused when one is free.
    func take() -> ByteBuffer {
        guard var buffer = pool.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return ByteBuffer() }
        buffer.clear()
        return buffer
    }

    /// Keeps `buffer` (a response being sent, or one dropped) for a later ``take()``.
    func recycle(_ buffer: ByteBuffer) {
        guard buffer.capacity <= Self.maxRetainedBytes else { return }
        pool.withLock { pool in
            if pool.count >= Self.capacity { pool.removeFirst() }
            pool.append(buffer)
        }
    }
}
