import NIOCore

/// Splits the byte stream into request frames: a 4-byte big-endian length, then that many
/// bytes. A length outside 8...`maxFrameBytes` (8: the shortest request header) is an error
/// before anything is buffered for it, so a 2 GiB length prefix costs nothing but the
/// connection it came on. With SASL, `limit` holds a lower bound until the client has
/// authenticated.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    static let minimumFrameBytes = 8
    let maxFrameBytes: Int
    var limit: KafkaFrameLimit? = nil

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        let maxFrameBytes = limit?.current ?? maxFrameBytes
        guard Int(length) >= Self.minimumFrameBytes, Int(length) <= maxFrameBytes else {
            throw KafkaCodecError.frameTooLarge(length: Int64(length), limit: maxFrameBytes)
        }
        guard let frame = buffer.getSlice(at: buffer.readerIndex + 4, length: Int(length)) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4 + Int(length))
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at the end of the connection is dropped with it.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Closes a connection that has been silent for the configured idle time.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
