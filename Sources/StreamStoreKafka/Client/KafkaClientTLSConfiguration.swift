import NIOSSL

/// TLS from the mirror's client to a cluster (`security.protocol=SSL` or `SASL_SSL` in Kafka's
/// terms): the broker's certificate is checked against a CA file, or against the system's trust
/// roots, and must name the host the client connects to (or ``serverName``). No client
/// certificate is sent (no mutual TLS).
public struct KafkaClientTLSConfiguration: Sendable, Equatable {
    /// PEM file of the certificates that may sign the broker's (a self-signed broker
    /// certificate itself works too); nil: the system's trust roots.
    public var caFile: String?
    /// The name the broker's certificate must carry, when it differs from the host in the
    /// bootstrap address or the metadata (for example a certificate for `kafka.internal`
    /// reached through an IP address); also sent as the server name (SNI). nil: the host.
    public var serverName: String?

    /// TLS trusting `caFile` (nil: the system's trust roots), checking `serverName` (nil: the host).
    public init(caFile: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.serverName = serverName
    }

    /// A TLS context (TLS 1.2 and later, certificates and host names verified), or an error
    /// that names the CA file when it cannot be read.
    func makeContext() throws(KafkaClientError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let caFile {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw KafkaClientError(.invalidConfiguration, "Cannot read the TLS CA file \(caFile) (PEM certificates expected): \(error).")
            }
            guard !roots.isEmpty else {
                throw KafkaClientError(.invalidConfiguration, "The TLS CA file \(caFile) holds no PEM certificate.")
            }
            configuration.trustRoots = .certificates(roots)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw KafkaClientError(.invalidConfiguration, "Cannot set up TLS: \(error).")
        }
    }
}
