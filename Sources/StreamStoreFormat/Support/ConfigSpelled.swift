/// A setting stored in `topic.json` as its one-string spelling (`"everyAppend"`, `"zstd:3"`),
/// readable by people and stable across versions, instead of Swift's synthesized enum coding.
package protocol ConfigSpelled: Codable {
    var configValue: String { get }
    init?(configValue: String)
}

extension ConfigSpelled {
    /// Reads the setting's one-string spelling; a string that is not one is a `DecodingError`.
    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = Self(configValue: value) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(value) is not a valid \(Self.self)"))
        }
        self = parsed
    }

    /// Writes the setting as its one-string spelling.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(configValue)
    }
}
