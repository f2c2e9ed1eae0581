/// What the server keeps of a user's password for one SCRAM mechanism (RFC 5802, section 3):
/// the salt, the iteration count, StoredKey = H(HMAC(SaltedPassword, "Client Key")) and
/// ServerKey = HMAC(SaltedPassword, "Server Key"). Neither key gives the password back, and
/// StoredKey alone does not let anyone log in (the proof needs the ClientKey behind it).
struct ScramCredential: Sendable, Equatable {
    let algorithm: ScramAlgorithm
    let salt: [UInt8]
    let iterations: Int
    let storedKey: [UInt8]
    let serverKey: [UInt8]

    /// Bytes of a new salt (Kafka's are as long).
    static let saltBytes = 32

    init(algorithm: ScramAlgorithm, salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.algorithm = algorithm
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// Derives the credential of `password` (its UTF-8 bytes, as Kafka takes them: no SASLprep).
    init(password: String, algorithm: ScramAlgorithm, salt: [UInt8], iterations: Int) {
        let salted = algorithm.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations)
        let clientKey = algorithm.hmac(key: salted, Array("Client Key".utf8))
        self.init(
            algorithm: algorithm, salt: salt, iterations: iterations, storedKey: algorithm.hash(clientKey),
            serverKey: algorithm.hmac(key: salted, Array("Server Key".utf8)))
    }

    /// A credential for `password` with a fresh random salt.
    static func derive(password: String, algorithm: ScramAlgorithm, iterations: Int) -> ScramCredential {
        ScramCredential(password: password, algorithm: algorithm, salt: randomBytes(saltBytes), iterations: iterations)
    }

    /// True when `password` is the one this credential was made from (PLAIN logins): the
    /// same derivation, compared in constant time.
    func verifies(password: String) -> Bool {
        let candidate = ScramCredential(password: password, algorithm: algorithm, salt: salt, iterations: iterations)
        return ScramAlgorithm.constantTimeEqual(candidate.storedKey, storedKey)
    }

    /// Bytes from the system's cryptographic generator (getrandom on Linux).
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
