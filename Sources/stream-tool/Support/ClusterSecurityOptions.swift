import ArgumentParser
import Foundation
import StreamStoreKafka

/// `--tls`, `--tls-ca-file`, `--tls-server-name`, `--sasl-mechanism`, `--sasl-user` and
/// `--sasl-password-file`: how `stream-tool mirror` reaches a cluster that requires TLS or a
/// SASL login (Kafka's `security.protocol` SSL, SASL_PLAINTEXT or SASL_SSL). The password is
/// never an argument (arguments show in `ps`): it comes from a file or from the
/// STREAM_TOOL_SASL_PASSWORD environment variable.
struct ClusterSecurityOptions: ParsableArguments {
    static let passwordVariable = "STREAM_TOOL_SASL_PASSWORD"

    @Flag(name: .customLong("tls"), help: "Connect to the cluster with TLS, checking its certificate against the system's trust roots (or --tls-ca-file).")
    var tls = false

    @Option(name: .customLong("tls-ca-file"), help: ArgumentHelp("PEM certificates that may sign the brokers' certificates (implies --tls).", valueName: "FILE"))
    var tlsCAFile: String?

    @Option(name: .customLong("tls-server-name"), help: ArgumentHelp("The name the brokers' certificates must carry, when it is not the host connected to (implies --tls).", valueName: "NAME"))
    var tlsServerName: String?

    @Option(name: .customLong("sasl-mechanism"), help: ArgumentHelp("SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN (PLAIN only with TLS). Default with --sasl-user: SCRAM-SHA-512.", valueName: "MECHANISM"))
    var saslMechanism: String?

    @Option(name: .customLong("sasl-user"), help: ArgumentHelp("Log in to the cluster as this user; the password comes from --sasl-password-file or $STREAM_TOOL_SASL_PASSWORD.", valueName: "USER"))
    var saslUser: String?

    @Option(name: .customLong("sasl-password-file"), help: ArgumentHelp("A file whose first line is the SASL password.", valueName: "FILE"))
    var saslPasswordFile: String?

    func validate() throws {
        if let saslMechanism, KafkaSASLMechanism(rawValue: saslMechanism.uppercased()) == nil {
            throw ValidationError("--sasl-mechanism must be SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN, not \(saslMechanism).")
        }
        if saslUser == nil, saslMechanism != nil || saslPasswordFile != nil {
            throw ValidationError("--sasl-mechanism and --sasl-password-file need --sasl-user.")
        }
        if saslMechanism?.uppercased() == KafkaSASLMechanism.plain.rawValue, tlsConfiguration == nil {
            throw ValidationError("SASL PLAIN sends the password in the clear: add --tls (or --tls-ca-file), or use SCRAM-SHA-256 or SCRAM-SHA-512.")
        }
    }

    /// TLS to use, or nil for plaintext.
    var tlsConfiguration: KafkaClientTLSConfiguration? {
        guard tls || tlsCAFile != nil || tlsServerName != nil else { return nil }
        return KafkaClientTLSConfiguration(caFile: tlsCAFile, serverName: tlsServerName)
    }

    /// The login to use, or nil; reads the password from its file or the environment.
    func saslConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ToolError) -> KafkaClientSASLConfiguration? {
        guard let saslUser else { return nil }
        let mechanism = saslMechanism.flatMap { KafkaSASLMechanism(rawValue: $0.uppercased()) } ?? .scramSHA512
        let password: String
        if let saslPasswordFile {
            let text: String
            do {
                text = try String(contentsOfFile: saslPasswordFile, encoding: .utf8)
            } catch {
                throw ToolError("Cannot read the SASL password file \(saslPasswordFile): \(error.localizedDescription)")
            }
            password = String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        } else if let fromEnvironment = environment[Self.passwordVariable] {
            password = fromEnvironment
        } else {
            throw ToolError("--sasl-user \(saslUser) needs a password: --sasl-password-file FILE, or set \(Self.passwordVariable).")
        }
        guard !password.isEmpty else { throw ToolError("The SASL password for \(saslUser) is empty.") }
        return KafkaClientSASLConfiguration(mechanism: mechanism, user: saslUser, password: password)
    }
}
