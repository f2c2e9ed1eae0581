#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StreamStoreFormat

/// The Kafka server's users: for each user and SCRAM mechanism, the salted credential a
/// password was turned into, never the password itself. A text file, one credential a line
/// (docs/KAFKA.md, "The users file"):
///
/// ```
/// # USER MECHANISM ITERATIONS SALT STORED-KEY SERVER-KEY  (the last three in base64)
/// alice SCRAM-SHA-256 4096 cTGxH...= 6qE1T...= Kx0xq...=
/// ```
///
/// Blank lines and lines starting with `#` are ignored. The file must be readable and
/// writable by its owner only (0600): loading refuses anything more open, since the keys,
/// while not passwords, allow an offline guessing attack.
package struct KafkaUsersFile: Sendable, Equatable {
    /// user → mechanism → credential.
    private(set) var credentials: [String: [ScramAlgorithm: ScramCredential]] = [:]

    package init() {}

    /// The users, sorted, with the mechanisms each has a credential for.
    package var users: [(name: String, mechanisms: [KafkaSASLMechanism])] {
        credentials.keys.sorted().map { name in
            (name, ScramAlgorithm.allCases.filter { credentials[name]?[$0] != nil }.map(\.mechanism))
        }
    }

    /// The credential a SCRAM login of `user` is checked against.
    func credential(user: String, algorithm: ScramAlgorithm) -> ScramCredential? { credentials[user]?[algorithm] }

    /// The credential a PLAIN login checks the password against: SHA-512's when there is one.
    func plainCredential(user: String) -> ScramCredential? {
        credentials[user].flatMap { $0[.sha512] ?? $0[.sha256] }
    }

    /// Adds `user` (or replaces their password) for each mechanism, with a fresh salt each.
    package mutating func add(
        user: String, password: String, mechanisms: [KafkaSASLMechanism], iterations: Int = Limits.kafkaScramMinIterations
    ) throws(KafkaSecurityError) {
        try Self.checkUserName(user)
        guard (Limits.kafkaScramMinIterations...Limits.kafkaScramMaxIterations).contains(iterations) else {
            throw KafkaSecurityError(
                .invalidIterations,
                "Iterations must be between \(Limits.kafkaScramMinIterations) and \(Limits.kafkaScramMaxIterations), not \(iterations).")
        }
        for algorithm in mechanisms.compactMap(\.scram) {
            credentials[user, default: [:]][algorithm] = .derive(password: password, algorithm: algorithm, iterations: iterations)
        }
    }

    /// Removes every credential of `user`; false when there was none.
    package mutating func remove(user: String) -> Bool {
        credentials.removeValue(forKey: user) != nil
    }

    /// User names are stored as they are, separated by spaces: printable, no whitespace.
    package static func checkUserName(_ user: String) throws(KafkaSecurityError) {
        guard !user.isEmpty, user.utf8.count <= 255, !user.hasPrefix("#"),
            user.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.value >= 0x21 && $0.value != 0x7F })
        else {
            throw KafkaSecurityError(
                .invalidUserName, "\"\(user)\" cannot be a user name: use 1 to 255 printable characters, without spaces, not starting with #.")
        }
    }

    // MARK: Text

    /// The file's text: a comment saying what it is, then one line per credential, sorted.
    package func render() -> String {
        var text = "# StreamStore Kafka users: salted SCRAM credentials, never passwords (docs/KAFKA.md).\n"
        text += "# USER MECHANISM ITERATIONS SALT STORED-KEY SERVER-KEY\n"
        for name in credentials.keys.sorted() {
            for algorithm in ScramAlgorithm.allCases {
                guard let credential = credentials[name]?[algorithm] else { continue }
                text += "\(name) \(algorithm.rawValue) \(credential.iterations) \(credential.salt.base64) "
                text += "\(credential.storedKey.base64) \(credential.serverKey.base64)\n"
            }
        }
        return text
    }

    /// Reads the text of a users file; `path` only names it in errors.
    package static func parse(_ text: String, path: String) throws(KafkaSecurityError) -> KafkaUsersFile {
        var file = KafkaUsersFile()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            func invalid(_ why: String) -> KafkaSecurityError {
                KafkaSecurityError(.usersFileInvalid, "Line \(index + 1): \(why). Fix or remove the line, or add the user again.", path: path)
            }
            guard fields.count == 6 else { throw invalid("expected USER MECHANISM ITERATIONS SALT STORED-KEY SERVER-KEY") }
            let user = String(fields[0])
            guard (try? checkUserName(user)) != nil else { throw invalid("\(user) is not a valid user name") }
            guard let algorithm = ScramAlgorithm(rawValue: String(fields[1])) else {
                throw invalid("unknown mechanism \(fields[1]) (SCRAM-SHA-256 or SCRAM-SHA-512)")
            }
            guard let iterations = Int(fields[2]), (Limits.kafkaScramMinIterations...Limits.kafkaScramMaxIterations).contains(iterations) else {
                throw invalid("iterations \(fields[2]) outside \(Limits.kafkaScramMinIterations)...\(Limits.kafkaScramMaxIterations)")
            }
            guard let salt = [UInt8](base64: String(fields[3])), !salt.isEmpty else { throw invalid("the salt is not base64") }
            guard let storedKey = [UInt8](base64: String(fields[4])), storedKey.count == algorithm.outputBytes,
                let serverKey = [UInt8](base64: String(fields[5])), serverKey.count == algorithm.outputBytes
            else { throw invalid("the keys are not \(algorithm.outputBytes) bytes of base64 each") }
            guard file.credentials[user]?[algorithm] == nil else { throw invalid("a second \(algorithm.rawValue) line for \(user)") }
            file.credentials[user, default: [:]][algorithm] = ScramCredential(
                algorithm: algorithm, salt: salt, iterations: iterations, storedKey: storedKey, serverKey: serverKey)
        }
        return file
    }
}
