import Foundation
import StreamStore

/// The `headers` column: a JSON array of objects, one per header, in order (docs/OUTBOX.md):
/// `{"key":"event-type","value":"order-placed"}`; a value that is not UTF-8 as
/// `{"key":...,"valueBase64":"..."}`; a header without a value as `{"key":...}`. NULL or `[]`
/// when there are none.
enum OutboxHeaders {
    struct Invalid: Error {
        var message: String
    }

    static func encode(_ headers: [RecordHeader]) throws -> String? {
        guard !headers.isEmpty else { return nil }
        let objects: [[String: String]] = headers.map { header in
            var object = ["key": header.key]
            if let value = header.value {
                if let text = String(validating: value, as: UTF8.self) {
                    object["value"] = text
                } else {
                    object["valueBase64"] = Data(value).base64EncodedString()
                }
            }
            return object
        }
        let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String?) throws(Invalid) -> [RecordHeader] {
        guard let text, !text.isEmpty else { return [] }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let array = parsed as? [Any] else {
            throw Invalid(message: "its headers column is not a JSON array.")
        }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(array.count)
        for (index, element) in array.enumerated() {
            guard let object = element as? [String: Any], let key = object["key"] as? String else {
                throw Invalid(message: "header \(index) is not an object with a \"key\" string.")
            }
            if let value = object["value"] as? String {
                headers.append(RecordHeader(key: key, value: value))
            } else if let encoded = object["valueBase64"] as? String {
                guard let data = Data(base64Encoded: encoded) else { throw Invalid(message: "header \(index)'s valueBase64 is not base64.") }
                headers.append(RecordHeader(key: key, value: [UInt8](data)))
            } else if object["value"] == nil || object["value"] is NSNull {
                headers.append(RecordHeader(key: key, value: nil as [UInt8]?))
            } else {
                throw Invalid(message: "header \(index)'s value is not a string.")
            }
        }
        guard headers.count <= Limits.maxHeadersPerRecord else {
            throw Invalid(message: "it has \(headers.count) headers; at most \(Limits.maxHeadersPerRecord) are allowed.")
        }
        return headers
    }
}
