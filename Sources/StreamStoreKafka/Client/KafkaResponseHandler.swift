import NIOCore
import NIOSSL
import StreamStoreFormat

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
