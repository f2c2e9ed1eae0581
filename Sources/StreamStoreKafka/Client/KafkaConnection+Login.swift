import NIOCore

extension KafkaConnection {
    /// SASL on a fresh connection (KIP-152): SaslHandshake v1 names the mechanism, then each
    /// token goes in a SaslAuthenticate request. Every failure is `.authentication` (not
    /// retried: a wrong password stays wrong), except a connection lost meanwhile.
    func logIn(_ sasl: KafkaClientSASLConfiguration, overTLS: Bool) async throws(KafkaClientError) {
        let mechanism = sasl.mechanism
        guard mechanism.scram != nil || overTLS else {
            throw KafkaClientError(.invalidConfiguration, "SASL PLAIN sends the password in the clear: use it with TLS, or use SCRAM-SHA-256 or SCRAM-SHA-512.")
        }
        guard let handshakeVersion = try? version(.saslHandshake), handshakeVersion >= 1, (try? version(.saslAuthenticate)) != nil else {
            throw KafkaClientError(.authentication, "The broker at \(address) does not offer SASL authentication (SaslHandshake v1 and SaslAuthenticate).")
        }
        var handshake = SaslHandshakeRequest()
        handshake.mechanism = mechanism.rawValue
        let offered: SaslHandshakeResponse = try await send(handshake)
        if offered.errorCode == KafkaErrorCode.unsupportedSaslMechanism.rawValue {
            throw KafkaClientError(
                .authentication,
                "The broker at \(address) does not offer \(mechanism.rawValue) (it offers \(offered.mechanisms.isEmpty ? "none" : offered.mechanisms.joined(separator: ", "))).")
        }
        guard offered.errorCode == 0 else { throw KafkaClientError.broker(offered.errorCode, "SaslHandshake at \(address)") }
        do {
            if let algorithm = mechanism.scram {
                var exchange = ScramClientExchange(algorithm: algorithm, user: sasl.user, password: sasl.password)
                let serverFirst = try await authenticate(exchange.clientFirst(), sasl)
                let serverFinal = try await authenticate(try exchange.clientFinal(serverFirst: serverFirst), sasl)
                try exchange.verify(serverFinal: serverFinal)
            } else {
                _ = try await authenticate(Array("\0\(sasl.user)\0\(sasl.password)".utf8), sasl)
            }
        } catch let failure as SaslFailure {
            throw KafkaClientError(.authentication, "Login to \(address) as \(sasl.user) with \(mechanism.rawValue) failed: \(failure.detail).")
        } catch let error as KafkaClientError {
            throw error
        } catch {
            throw KafkaClientError(.authentication, "Login to \(address) failed: \(error).")
        }
    }

    /// One SASL token to the broker, its answer back; a refusal is `.authentication` with the
    /// broker's message.
    private func authenticate(_ token: [UInt8], _ sasl: KafkaClientSASLConfiguration) async throws(KafkaClientError) -> [UInt8] {
        var request = SaslAuthenticateRequest()
        request.authBytes = ByteBuffer(bytes: token)
        let answer: SaslAuthenticateResponse = try await send(request)
        guard answer.errorCode == 0 else {
            let reason = answer.errorMessage ?? KafkaClientError.name(of: answer.errorCode)
            throw KafkaClientError(.authentication, "Login to \(address) as \(sasl.user) with \(sasl.mechanism.rawValue) failed: \(reason).", kafkaErrorCode: answer.errorCode)
        }
        return Array(answer.authBytes.readableBytesView)
    }
}
