import NIOCore
import Testing

@testable import StreamStoreKafka

/// Fetch responses' memory is reused, never while a response may still be sent from it.
@Suite struct ResponseBuffersTests {
    @Test func aResponseStillHeldIsNeverWrittenInto() {
        let pool = ResponseBuffers()
        var sending = pool.take()
        sending.writeString("the first response")
        // The broker keeps a copy while NIO (here: `sending`) still holds the response.
        pool.recycle(sending)
        var next = pool.take()
        next.writeString("the second one, longer")
        #expect(sending.getString(at: 0, length: sending.readableBytes) == "the first response")
        #expect(next.getString(at: 0, length: next.readableBytes) == "the second one, longer")
    }

    @Test func aResponseLetGoIsReusedWithoutANewAllocation() {
        let pool = ResponseBuffers()
        var response = pool.take()
        response.writeBytes([UInt8](repeating: 7, count: 1 << 20))
        let storage = response.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        pool.recycle(response)
        response = ByteBuffer()  // NIO sent it and let go.
        let reused = pool.take()
        #expect(reused.readableBytes == 0)
        #expect(reused.capacity >= 1 << 20)
        #expect(reused.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) } == storage)
    }

    @Test func hugeBuffersAndMoreThanTheCapacityAreLetGo() {
        let pool = ResponseBuffers()
        var huge = ByteBuffer()
        huge.reserveCapacity(ResponseBuffers.maxRetainedBytes + 1)
        pool.recycle(huge)
        #expect(pool.take().capacity < ResponseBuffers.maxRetainedBytes)
        for index in 0..<(ResponseBuffers.capacity + 3) {
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1024 * (index + 1))
            pool.recycle(buffer)
        }
        // The oldest went: what is left starts at the fourth buffer.
        #expect(pool.take().capacity >= 1024 * 4)
    }
}
