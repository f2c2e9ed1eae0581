import CLibCrypto

/// The hash behind a SCRAM mechanism, and the functions RFC 5802 (section 2.2) builds from
/// it: H, HMAC and Hi (PBKDF2 with HMAC, one output block), from the system's libcrypto.
enum ScramAlgorithm: String, Sendable, CaseIterable {
    case sha256 = "SCRAM-SHA-256"
    case sha512 = "SCRAM-SHA-512"

    /// The bytes of a hash, of a key, and of a proof.
    var outputBytes: Int {
        switch self {
        case .sha256: return 32
        case .sha512: return 64
        }
    }

    var mechanism: KafkaSASLMechanism {
        switch self {
        case .sha256: return .scramSHA256
        case .sha512: return .scramSHA512
        }
    }

    /// libcrypto's description of the hash (static: nothing to free).
    private var digest: OpaquePointer {
        switch self {
        case .sha256: return EVP_sha256()
        case .sha512: return EVP_sha512()
        }
    }

    /// H(data).
    func hash(_ data: [UInt8]) -> [UInt8] {
        output { out in
            Self.withBytes(data) { bytes, count in
                var written: UInt32 = 0
                return EVP_Digest(bytes, count, out, &written, digest, nil) == 1 && Int(written) == outputBytes
            }
        }
    }

    /// HMAC(key, data).
    func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        output { out in
            Self.withBytes(key) { keyBytes, keyCount in
                Self.withBytes(data) { bytes, count in
                    var written: UInt32 = 0
                    return HMAC(digest, keyBytes, Int32(keyCount), bytes.map { $0.assumingMemoryBound(to: UInt8.self) }, count, out, &written) != nil
                        && Int(written) == outputBytes
                }
            }
        }
    }

    /// Hi(password, salt, i): U1 = HMAC(password, salt + INT(1)), Ui = HMAC(password, Ui-1),
    /// and the result is U1 XOR U2 XOR ... XOR Ui: PBKDF2 (RFC 8018) with HMAC as its PRF and
    /// one block of output, which libcrypto computes in one call (a PLAIN login runs this at
    /// every login).
    func saltedPassword(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        output { out in
            Self.withBytes(password) { passwordBytes, passwordCount in
                Self.withBytes(salt) { saltBytes, saltCount in
                    PKCS5_PBKDF2_HMAC(
                        passwordBytes?.assumingMemoryBound(to: CChar.self), Int32(passwordCount),
                        saltBytes?.assumingMemoryBound(to: UInt8.self), Int32(saltCount),
                        Int32(clamping: max(iterations, 1)), digest, Int32(outputBytes), out) == 1
                }
            }
        }
    }

    /// `outputBytes` filled by `body`, which returns whether libcrypto succeeded. It fails only
    /// when it cannot allocate, which, as for any allocation failure, ends the process.
    private func output(_ body: (UnsafeMutablePointer<UInt8>) -> Bool) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: outputBytes)
        let succeeded = result.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map(body) ?? false }
        precondition(succeeded, "libcrypto failed to compute \(rawValue)")
        return result
    }

    /// The bytes of `data`, and their count. Never a null pointer: an empty array may have no
    /// storage, and libcrypto reads a null key as "no key given" (an empty password is a key of
    /// zero bytes), so empty input points at a byte it never reads.
    private static func withBytes<Result>(_ data: [UInt8], _ body: (UnsafeRawPointer?, Int) -> Result) -> Result {
        guard !data.isEmpty else { return [UInt8(0)].withUnsafeBytes { body($0.baseAddress, 0) } }
        return data.withUnsafeBytes { body($0.baseAddress, $0.count) }
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
