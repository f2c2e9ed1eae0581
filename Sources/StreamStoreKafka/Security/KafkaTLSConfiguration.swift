import NIOSSL

/// TLS for the Kafka server: a certificate chain and its private key, both PEM files. Clients
/// connect with `security.protocol=SSL` (or `SASL_SSL` with SASL) and check the certificate
/// against their CA file; the server asks no certificate of them (no mutual TLS).
public struct KafkaTLSConfiguration: Sendable, Equatable {
    /// The server's certificate, then any intermediates, in PEM.
    public var certificateChainFile: String
    /// The certificate's private key in PEM (unencrypted).
    public var privateKeyFile: String

    /// TLS with the certificate chain and key in these PEM files.
    public init(certificateChainFile: String, privateKeyFile: String) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }

    /// Loads both files into a TLS context (TLS 1.2 and later), or says which file is wrong.
    func makeContext() throws(KafkaSecurityError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateChainFile)
        } catch {
            throw KafkaSecurityError(.tlsFiles, "Cannot read the TLS certificate chain (PEM expected): \(error).", path: certificateChainFile)
        }
        guard !chain.isEmpty else {
            throw KafkaSecurityError(.tlsFiles, "The TLS certificate file holds no PEM certificate.", path: certificateChainFile)
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        } catch {
            throw KafkaSecurityError(.tlsFiles, "Cannot read the TLS private key (unencrypted PEM expected): \(error).", path: privateKeyFile)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw KafkaSecurityError(
                .tlsFiles, "The TLS certificate and private key cannot be used together (does the key belong to the certificate?): \(error).",
                path: privateKeyFile)
        }
    }
}
