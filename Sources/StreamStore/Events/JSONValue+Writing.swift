extension JSONValue {
    /// The value as compact JSON (object members sorted by name, so equal values give equal
    /// bytes). A non-finite double has no JSON form: `.eventEncodingFailed`.
    public func encoded() throws(StreamStoreError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        try write(to: &output, sortingKeys: true)
        return output
    }

    /// Appends the value's JSON; the decoder's upcasting path leaves object members in the
    /// dictionary's order, since only its decoder reads the result.
    func write(to output: inout [UInt8], sortingKeys: Bool) throws(StreamStoreError) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .integer(let value): output.append(contentsOf: String(value).utf8)
        case .double(let value):
            guard value.isFinite else {
                throw StreamStoreError(.eventEncodingFailed, "The number \(value) has no JSON form; use a finite number or null.")
            }
            output.append(contentsOf: value.description.utf8)
        case .string(let text): Self.writeString(text, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                try element.write(to: &output, sortingKeys: sortingKeys)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            if sortingKeys {
                for (position, key) in members.keys.sorted().enumerated() {
                    if position > 0 { output.append(UInt8(ascii: ",")) }
                    try Self.writeMember(key, members[key, default: .null], to: &output, sortingKeys: true)
                }
            } else {
                for (position, member) in members.enumerated() {
                    if position > 0 { output.append(UInt8(ascii: ",")) }
                    try Self.writeMember(member.key, member.value, to: &output, sortingKeys: false)
                }
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func writeMember(_ key: String, _ value: JSONValue, to output: inout [UInt8], sortingKeys: Bool) throws(StreamStoreError) {
        writeString(key, to: &output)
        output.append(UInt8(ascii: ":"))
        try value.write(to: &output, sortingKeys: sortingKeys)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `text` as a JSON string: quotes, backslashes and control characters escaped.
    private static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                output.append(contentsOf: #"\u00"#.utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
