import FuzzSupport
import StreamStore
import StreamStoreFuzzEntryPoints

// libFuzzer target: the JSON line parser of `stream-tool produce --format json`, and the text
// codecs under it (UTF-8 validation, base64, ISO 8601 times).
//
// The input is one line, arbitrary bytes. Invariants: the parser answers every line with a
// record or a `Failure`, never a trap; a record it returns, written back as a JSON line (strings
// escaped, bytes that are not UTF-8 as base64), parses to the same record; base64 of any bytes
// decodes to them; a time ISO 8601 parses formats back to the same milliseconds.

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    SeedCorpus.writeIfRequested { JSONLineSeeds.make() }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONLine(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let line = UnsafeRawBufferPointer(start: data, count: size)
    let record: JSONLineRecord
    do throws(JSONLineParser.Failure) {
        record = try JSONLineParser.parse(line)
    } catch {
        require(!error.message.isEmpty, "a failure without a message")
        checkCodecs(Array(line))
        return 0
    }
    if let written = JSONLineWriter.line(for: record) {
        let again = written.withUnsafeBytes { raw in
            Result { () throws(JSONLineParser.Failure) -> JSONLineRecord in try JSONLineParser.parse(raw) }
        }
        let text = String(decoding: written, as: UTF8.self)
        switch again {
        case .success(let parsed): require(parsed == record, "a parsed record written back parses differently: \(text)")
        case .failure(let failure): fatalError("a parsed record written back does not parse (\(failure.message)): \(text)")
        }
    }
    checkCodecs(Array(line))
    return 0
}

/// Base64 and ISO 8601 on the same bytes: both directions agree.
private func checkCodecs(_ bytes: [UInt8]) {
    let encoded = JSONLineWriter.base64(bytes)
    require(Base64.decode(encoded) == bytes, "base64 of \(bytes.count) bytes does not decode to them")
    let text = String(decoding: bytes, as: UTF8.self)
    if let milliseconds = ISO8601.parse(text), JSONLineWriter.formattable.contains(milliseconds) {
        let formatted = ISO8601.format(milliseconds: milliseconds)
        require(ISO8601.parse(formatted) == milliseconds, "\(text) parses to \(milliseconds), formatted \(formatted) parses differently")
    }
    if bytes.count >= 8 {
        let milliseconds = bytes.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) } % 253_402_300_800_000
        if JSONLineWriter.formattable.contains(milliseconds) {
            let formatted = ISO8601.format(milliseconds: milliseconds)
            require(ISO8601.parse(formatted) == milliseconds, "\(milliseconds) formats as \(formatted), which parses differently")
        }
    }
}
