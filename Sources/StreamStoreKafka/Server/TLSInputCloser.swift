import NIOCore

/// Half-closes a TLS connection's input, which the TLS handler itself refuses to do (it fails
/// `close(mode: .input)`). The server's shutdown relies on that half-close: no more requests
/// are read, the answers owed are still written, then the connection closes. Placed above the
/// TLS handler, this handler takes the `.input` close, drops whatever is read afterwards, and
/// tells the handlers above that the input ended, as a socket's half-close would.
final class TLSInputCloser: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var inputClosed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !inputClosed else { return }
        context.fireChannelRead(data)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .input else {
            context.close(mode: mode, promise: promise)
            return
        }
        promise?.succeed()
        guard !inputClosed else { return }
        inputClosed = true
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }
}
