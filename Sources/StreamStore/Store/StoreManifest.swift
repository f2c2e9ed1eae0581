import StreamStoreFormat
import StreamStoreLog
import Foundation

/// `store.json`: marks a folder as a store and names its format version (docs/FORMAT.md).
struct StoreManifest: Codable, Equatable {
    static let currentFormatVersion = 1
    var formatVersion: Int
    var createdMilliseconds: Int64

    func encoded() throws(StreamStoreError) -> [UInt8] {
        try JSONFiles.encode(self)
    }
}

/// `topic.json`: a topic's config, with the format version it was written by.
package struct TopicManifest: Codable, Equatable {
    var formatVersion: Int
    var name: String
    package var config: TopicConfig
}

/// JSON files of the store: small, human-readable, replaced atomically, validated on read.
package enum JSONFiles {
    static func encode<T: Encodable>(_ value: T) throws(StreamStoreError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return Array(try encoder.encode(value)) + [0x0A]
        } catch {
            throw StreamStoreError(.invalidConfig, "Could not encode \(T.self): \(error)")
        }
    }

    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], path: String) throws(StreamStoreError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw StreamStoreError(
                .corruptManifest, "The file is not valid: \(error). Restore it from a backup, or recreate the topic.", path: path)
        }
    }
}
