/// The `schema-version` header's text: a decimal from 1, without sign or leading zeros.
package enum SchemaVersion {
    /// The highest version a header may carry: nine digits, so it always fits an `Int`.
    package static let maximum = 999_999_999

    package static func isValid(_ version: Int) -> Bool {
        (1...maximum).contains(version)
    }

    /// The version `bytes` spell, or nil when they are not a valid version.
    package static func parse(_ bytes: some Collection<UInt8>) -> Int? {
        guard (1...9).contains(bytes.count), bytes.first != UInt8(ascii: "0") else { return nil }
        var version = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            version = version * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return version
    }
}
