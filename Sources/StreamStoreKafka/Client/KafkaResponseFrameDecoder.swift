import NIOCore
import NIOSSL
import StreamStoreFormat

/// Splits a broker's byte stream into response frames: a 4-byte big-endian length, then that
/// many bytes, the first 4 of them the correlation id. A length outside 4...`maxFrameBytes` is
/// an error before anything is buffered for it, and the connection is dropped.
struct KafkaResponseFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    static let minimumFrameBytes = 4
    let maxFrameBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard Int(length) >= Self.minimumFrameBytes, Int(length) <= maxFrameBytes else {
            throw KafkaCodecError.frameTooLarge(length: Int64(length), limit: maxFrameBytes)
        }
        guard let frame = buffer.getSlice(at: buffer.readerIndex + 4, length: Int(length)) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4 + Int(length))
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Hands each response frame to the request waiting for its correlation id, and fails every
/// waiting request when the connection closes or breaks.
final class KafkaResponseHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let pending: PendingRequests

    init(pending: PendingRequests) { self.pending = pending }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.deliver(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending.failAll(KafkaClientError(.connection, "The connection to \(pending.address) closed."))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed TLS handshake does not pass by retrying: an untrusted certificate stays so.
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            pending.failAll(KafkaClientError(.tls, "TLS with \(pending.address) failed: \(error). Check --tls-ca-file (or the broker's certificate and host name), and that the broker listens with TLS."))
        } else {
            pending.failAll(KafkaClientError(.connection, "The connection to \(pending.address) failed: \(error)."))
        }
        context.close(promise: nil)
    }
}

/// The requests of one connection that wait for their answers, by correlation id.
final class PendingRequests: Sendable {
    let address: String
    private let state = Locked(State())

    private struct Waiting {
        var promise: EventLoopPromise<ByteBuffer>
        var timer: Scheduled<Void>?
    }

    private struct State {
        var waiting: [Int32: Waiting] = [:]
        var nextCorrelationId: Int32 = 1
        var failure: KafkaClientError?
    }

    init(address: String) { self.address = address }

    /// A fresh correlation id whose answer completes `promise`, or nil (and the promise failed
    /// with the connection's failure) when the connection already broke.
    func register(_ promise: EventLoopPromise<ByteBuffer>) -> Int32? {
        let outcome: (Int32?, KafkaClientError?) = state.withLock { state in
            if let failure = state.failure { return (nil, failure) }
            let id = state.nextCorrelationId
            state.nextCorrelationId = id == Int32.max ? 1 : id + 1
            state.waiting[id] = Waiting(promise: promise)
            return (id, nil)
        }
        if let failure = outcome.1 { promise.fail(failure) }
        return outcome.0
    }

    /// The timer that fails request `id` when its answer is late.
    func setTimer(_ id: Int32, _ timer: Scheduled<Void>) {
        let answered = state.withLock { state in
            guard state.waiting[id] != nil else { return true }
            state.waiting[id]?.timer = timer
            return false
        }
        if answered { timer.cancel() }
    }

    func deliver(_ frame: ByteBuffer) {
        var frame = frame
        guard let id = frame.readInteger(as: Int32.self) else { return }
        guard let waiting = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return }
        waiting.timer?.cancel()
        waiting.promise.succeed(frame)
    }

    func fail(_ id: Int32, _ error: KafkaClientError) {
        guard let waiting = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return }
        waiting.timer?.cancel()
        waiting.promise.fail(error)
    }

    func failAll(_ error: KafkaClientError) {
        let waiting = state.withLock { state in
            if state.failure == nil { state.failure = error }
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for entry in waiting {
            entry.timer?.cancel()
            entry.promise.fail(error)
        }
    }

    var isBroken: Bool { state.withLock { $0.failure != nil } }
}
