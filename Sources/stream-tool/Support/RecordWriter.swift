import StreamStore

/// Writes records as `replay` and `dump --records` show them: JSON members (CLI.md, "replay")
/// or an aligned text row, straight into a ``BufferedOutput`` with no object per record.
struct RecordWriter {
    let output: BufferedOutput
    /// Reused for formatting timestamps in text rows.
    private var scratch: [UInt8] = []

    init(output: BufferedOutput) {
        self.output = output
    }

    // MARK: JSON

    /// The fixed pieces of a JSON record, encoded once.
    private enum JSONPieces {
        static let timestamp = Array(#","timestamp":"#.utf8)
        static let key = FieldNames(name: "key")
        static let value = FieldNames(name: "value")
        static let headersOpen = Array(#","headers":{"#.utf8)
        static let headersBase64Open = Array(#","headersBase64":{"#.utf8)
        static let null = Array("null".utf8)

        struct FieldNames {
            var text: [UInt8]
            var base64: [UInt8]
            var null: [UInt8]

            init(name: String) {
                text = Array(",\"\(name)\":".utf8)
                base64 = Array(",\"\(name)Base64\":\"".utf8)
                null = Array(",\"\(name)\":null".utf8)
            }
        }
    }

    /// `,"timestamp":T,"key":…,"value":…,"headers":{…}`: every member after `"offset"`, without
    /// the closing brace. A key or value that is not UTF-8 is `keyBase64`/`valueBase64`; headers
    /// whose values are not UTF-8 go in `headersBase64`.
    func appendJSONMembers(after record: borrowing RecordView) {
        output.append(JSONPieces.timestamp)
        output.appendDecimal(record.timestamp)
        appendJSONBytes(record.key, names: JSONPieces.key)
        appendJSONBytes(record.value, names: JSONPieces.value)
        output.append(JSONPieces.headersOpen)
        var binaryHeaders: [RecordHeader] = []
        if record.headerCount > 0 {
            var first = true
            for header in record.headers {
                if let value = header.value, !UTF8Validation.isValid(value) {
                    binaryHeaders.append(header)
                    continue
                }
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                JSONText.appendString(header.key, to: output)
                output.append(UInt8(ascii: ":"))
                if let value = header.value {
                    value.withUnsafeBytes { JSONText.appendString($0, to: output) }
                } else {
                    output.append(JSONPieces.null)
                }
            }
        }
        output.append(UInt8(ascii: "}"))
        guard !binaryHeaders.isEmpty else { return }
        output.append(JSONPieces.headersBase64Open)
        for (index, header) in binaryHeaders.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONText.appendString(header.key, to: output)
            output.append(UInt8(ascii: ":"))
            output.append(UInt8(ascii: "\""))
            header.value?.withUnsafeBytes { Base64.append($0, to: output) }
            output.append(UInt8(ascii: "\""))
        }
        output.append(UInt8(ascii: "}"))
    }

    /// `,"key":"text"`, `,"keyBase64":"..."` or `,"key":null`.
    private func appendJSONBytes(_ bytes: UnsafeRawBufferPointer?, names: JSONPieces.FieldNames) {
        guard let bytes else {
            output.append(names.null)
            return
        }
        if UTF8Validation.isValid(bytes) {
            output.append(names.text)
            JSONText.appendString(bytes, to: output)
        } else {
            output.append(names.base64)
            Base64.append(bytes, to: output)
            output.append(UInt8(ascii: "\""))
        }
    }

    // MARK: Text

    /// Column widths of the text rows; keys longer than `keyWidth` push the value along.
    static let partitionWidth = 9
    static let offsetWidth = 12
    static let timestampWidth = 24
    static let keyWidth = 16

    /// `PARTITION  OFFSET  TIMESTAMP  KEY  VALUE  [HEADERS]`, the partition column only when
    /// `withPartition`.
    func appendTextTitles(withPartition: Bool, indent: String = "") {
        output.append(indent)
        if withPartition {
            output.appendRightAligned("PARTITION", width: Self.partitionWidth)
            output.appendSpaces(2)
        }
        output.appendRightAligned("OFFSET", width: Self.offsetWidth)
        output.appendSpaces(2)
        output.append("TIMESTAMP")
        output.appendSpaces(Self.timestampWidth - 9 + 2)
        output.append("KEY")
        output.appendSpaces(Self.keyWidth - 3 + 2)
        output.append("VALUE  [HEADERS]\n")
    }

    /// `        3       1042  2026-11-29T10:00:00.000Z  customer-17       {"type":…}  [event-type=order-placed]`
    mutating func appendTextRow(_ record: borrowing RecordView, partition: Int?, indent: String = "") {
        output.append(indent)
        if let partition {
            output.appendRightAligned(Int64(partition), width: Self.partitionWidth)
            output.appendSpaces(2)
        }
        output.appendRightAligned(record.offset, width: Self.offsetWidth)
        output.appendSpaces(2)
        scratch.removeAll(keepingCapacity: true)
        ISO8601.append(milliseconds: record.timestamp, to: &scratch)
        output.append(scratch)
        output.appendSpaces(2)
        let keyColumns = appendTextBytes(record.key)
        output.appendSpaces(max(Self.keyWidth - keyColumns, 0) + 2)
        _ = appendTextBytes(record.value)
        if record.headerCount > 0 {
            output.append("  [")
            for (index, header) in record.headers.enumerated() {
                if index > 0 { output.append(", ") }
                var name = header.key
                _ = name.withUTF8 { appendTextBytes(UnsafeRawBufferPointer($0)) }
                output.append(UInt8(ascii: "="))
                if let value = header.value {
                    _ = value.withUnsafeBytes { appendTextBytes($0) }
                } else {
                    output.append("(null)")
                }
            }
            output.append(UInt8(ascii: "]"))
        }
        output.append(UInt8(ascii: "\n"))
    }

    /// Writes bytes for a terminal: UTF-8 text with control characters escaped, other bytes as
    /// `base64:…`, null as `(null)`. Returns about how many columns it took.
    func appendTextBytes(_ bytes: UnsafeRawBufferPointer?) -> Int {
        guard let bytes else {
            output.append("(null)")
            return 6
        }
        guard UTF8Validation.isValid(bytes) else {
            output.append("base64:")
            Base64.append(bytes, to: output)
            return 7 + (bytes.count + 2) / 3 * 4
        }
        var columns = 0
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x80 else {
                // Characters, not bytes: continuation bytes (10xxxxxx) add no column.
                if byte & 0xC0 != 0x80 { columns += 1 }
                continue
            }
            columns += 1
            guard byte < 0x20 || byte == 0x7F else { continue }
            if runStart < index { output.append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index])) }
            switch byte {
            case 0x0A: output.append("\\n")
            case 0x0D: output.append("\\r")
            case 0x09: output.append("\\t")
            default: output.append("\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16))
            }
            columns += 1
            runStart = index + 1
        }
        if runStart < bytes.count { output.append(UnsafeRawBufferPointer(rebasing: bytes[runStart...])) }
        return columns
    }
}
