import Crypto

/// The hash behind a SCRAM mechanism, and the functions RFC 5802 (section 2.2) builds from
/// it: H, HMAC and Hi (PBKDF2 with HMAC, one output block).
enum ScramAlgorithm: String, Sendable, CaseIterable {
    case sha256 = "SCRAM-SHA-256"
    case sha512 = "SCRAM-SHA-512"

    /// The bytes of a hash, of a key, and of a proof.
    var outputBytes: Int {
        switch self {
        case .sha256: return SHA256.byteCount
        case .sha512: return SHA512.byteCount
        }
    }

    var mechanism: KafkaSASLMechanism {
        switch self {
        case .sha256: return .scramSHA256
        case .sha512: return .scramSHA512
        }
    }

    /// H(data).
    func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: return Array(SHA256.hash(data: data))
        case .sha512: return Array(SHA512.hash(data: data))
        }
    }

    /// HMAC(key, data).
    func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let symmetric = SymmetricKey(data: key)
        switch self {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: symmetric))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: data, using: symmetric))
        }
    }

    /// Hi(password, salt, i): U1 = HMAC(password, salt + INT(1)), Ui = HMAC(password, Ui-1),
    /// and the result is U1 XOR U2 XOR ... XOR Ui. The keyed HMAC is set up once and copied for
    /// each round, and the rounds allocate nothing: a PLAIN login runs this at every login.
    func saltedPassword(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        switch self {
        case .sha256: return Self.hi(HMAC<SHA256>.self, password: password, salt: salt, iterations: iterations)
        case .sha512: return Self.hi(HMAC<SHA512>.self, password: password, salt: salt, iterations: iterations)
        }
    }

    private static func hi<H: HashFunction>(_: HMAC<H>.Type, password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let keyed = HMAC<H>(key: SymmetricKey(data: password))
        var first = keyed
        first.update(data: salt + [0, 0, 0, 1])
        var previous = first.finalize()
        var result = Array(previous)
        for _ in 1..<max(iterations, 1) {
            var round = keyed
            previous.withUnsafeBytes { round.update(data: $0) }
            previous = round.finalize()
            previous.withUnsafeBytes { bytes in
                for index in result.indices { result[index] ^= bytes[index] }
            }
        }
        return result
    }

    /// True when both hold the same bytes, taking the same time wherever they differ, so a
    /// proof's check tells an attacker nothing about how close a guess came.
    static func constantTimeEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
