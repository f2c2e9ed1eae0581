import NIOCore

/// Splits a Kafka byte stream into frames: a 4-byte big-endian length, then that many bytes.
/// The server reads requests with it (at least 8 bytes: the shortest request header), the
/// client reads responses (at least 4: the correlation id). A length outside
/// `minimumFrameBytes...maxFrameBytes` is an error before anything is buffered for it, so a
/// 2 GiB length prefix costs nothing but the connection it came on. On the server with SASL,
/// `limit` holds a lower bound until the client has authenticated.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    /// The shortest request: api key, version, correlation id, client id length.
    static let minimumRequestBytes = 8
    /// The shortest response: its correlation id.
    static let minimumResponseBytes = 4

    let minimumFrameBytes: Int
    let maxFrameBytes: Int
    var limit: KafkaFrameLimit? = nil

    /// A decoder of request frames (the server's side).
    static func requests(maxFrameBytes: Int, limit: KafkaFrameLimit?) -> KafkaFrameDecoder {
        KafkaFrameDecoder(minimumFrameBytes: minimumRequestBytes, maxFrameBytes: maxFrameBytes, limit: limit)
    }

    /// A decoder of response frames (the client's side).
    static func responses(maxFrameBytes: Int) -> KafkaFrameDecoder {
        KafkaFrameDecoder(minimumFrameBytes: minimumResponseBytes, maxFrameBytes: maxFrameBytes)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        let maxFrameBytes = limit?.current ?? maxFrameBytes
        guard Int(length) >= minimumFrameBytes, Int(length) <= maxFrameBytes else {
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
