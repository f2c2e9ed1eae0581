/// Standard base64 (RFC 4648, with padding), by hand so neither direction needs Foundation.
/// Decoding is here, where the JSON line parser needs it; stream-tool adds the encoders that
/// write into its output buffer.
public enum Base64 {
    public static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let decoding: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The bytes `text` encodes, or nil when it is not base64. Padding is optional; whitespace
    /// and the URL-safe alphabet are not accepted.
    public static func decode(_ text: [UInt8]) -> [UInt8]? {
        var end = text.count
        var padding = 0
        while end > 0, text[end - 1] == UInt8(ascii: "="), padding < 2 {
            end -= 1
            padding += 1
        }
        if padding > 0 && text.count % 4 != 0 { return nil }
        guard end % 4 != 1 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(end * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for index in 0..<end {
            let value = decoding[Int(text[index])]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                result.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits must be zero, or two encodings would decode to the same bytes.
        guard accumulator == 0 else { return nil }
        return result
    }
}
