import StreamStore
import StreamStoreFuzzEntryPoints
import FuzzSupport

// libFuzzer target: the batch decoder (docs/FORMAT.md sections 2, 3 and 11).
//
// The input is one or more batches as they would lie in a `.log` file. Their CRC32Cs are
// recomputed first (else nearly every input would stop at the checksum), then they are parsed as
// a reader parses them, decompressed when zstd, and every record and header is decoded.
//
// Invariants: nothing traps or reads outside its buffer; a damaged batch or record is a thrown
// `.corruptBatch`, never anything else; the two ways of reading records (views and values)
// agree; every record lies inside its batch's offsets; and the records decoded, encoded again
// by `RecordBatch` and decoded once more, come back the same.

nonisolated(unsafe) private let decompressor = FuzzDecompressor()

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    SeedCorpus.writeIfRequested { try DecoderSeeds.make() }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBatchDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: size))
    bytes.withUnsafeMutableBytes { _ = FuzzEntryPoints.fixChecksums($0) }
    let (batches, _) = FuzzEntryPoints.parseBatches(bytes)
    for batch in batches { decode(batch) }
    return 0
}

private func decode(_ batch: StoredBatch) {
    require(batch.recordCount >= 0 && batch.lastOffset >= batch.baseOffset, "parsed a batch with counts \(batch.recordCount), \(batch.baseOffset)...\(batch.lastOffset)")
    require(batch.nextOffset == batch.lastOffset + 1 && batch.byteCount >= 61, "batch facts disagree")
    let plain: StoredBatch
    do {
        plain = try FuzzEntryPoints.decompressed(batch, with: decompressor)
    } catch {
        require(error.code == .corruptBatch, "decompression threw \(error.code), not corruptBatch")
        return
    }
    require(!FuzzEntryPoints.isCompressed(plain), "a decompressed batch is still compressed")

    var viewed: [StoredRecord] = []
    let viewError = catching {
        try plain.forEachRecord { record in
            require(record.offset >= plain.baseOffset && record.offset <= plain.lastOffset, "record offset \(record.offset) outside its batch \(plain.baseOffset)...\(plain.lastOffset)")
            let headers = record.headers
            require(headers.count == record.headerCount, "header count \(record.headerCount) but \(headers.count) decoded")
            // A key that was not valid UTF-8 reads back with U+FFFD in it, and no longer names the
            // raw bytes headerValue(forKey:) compares against.
            for header in headers where !header.key.unicodeScalars.contains("\u{FFFD}") {
                let found = record.headerValue(forKey: header.key)
                let first = headers.first { $0.key == header.key }
                require(found.map { $0.map(Array.init) } == first.map(\.value), "headerValue(forKey:) disagrees with headers for \(header.key)")
            }
            viewed.append(StoredRecord(
                offset: record.offset, timestamp: record.timestamp, key: record.key.map { ArraySlice($0) },
                value: record.value.map { ArraySlice($0) }, headers: headers))
        }
    }
    var stored: [StoredRecord] = []
    let storedError = catching { stored = try plain.storedRecords() }
    require((viewError == nil) == (storedError == nil), "views and values disagree on whether the batch decodes: \(String(describing: viewError)) / \(String(describing: storedError))")
    if let viewError {
        require(viewError.code == .corruptBatch, "record decoding threw \(viewError.code), not corruptBatch")
        return
    }
    require(plain.isControl ? stored.isEmpty : stored.count == plain.recordCount, "\(stored.count) records decoded of \(plain.recordCount)")
    require(viewed == stored, "forEachRecord and storedRecords decoded different records")
    roundTrip(stored)
}

/// Encodes `records` again and decodes the result: the same keys, values, headers and timestamps
/// must come back (offsets are dense from the new base, whatever gaps the input had).
private func roundTrip(_ records: [StoredRecord]) {
    guard !records.isEmpty else { return }
    var batch = RecordBatch()
    for record in records {
        do {
            try batch.append(key: record.key.map(Array.init), value: record.value.map(Array.init), headers: record.headers, timestamp: record.timestamp)
        } catch {
            // Decoding accepts a little more than encoding (a key and a value of 8 MiB each, header
            // keys that grow when invalid UTF-8 is replaced): those records cannot be re-encoded.
            return
        }
    }
    let encoded = FuzzEntryPoints.encode(batch, baseOffset: 0, appendTimeMilliseconds: 0)
    let (batches, stop) = FuzzEntryPoints.parseBatches(encoded, expectedBaseOffset: 0)
    require(batches.count == 1 && stop == nil, "a batch encoded from decoded records does not parse: \(stop ?? "")")
    let again: [StoredRecord]
    do {
        again = try batches[0].storedRecords()
    } catch {
        fatalError("a batch encoded from decoded records does not decode: \(error)")
    }
    require(again.count == records.count, "round trip changed the record count")
    for (index, (before, after)) in zip(records, again).enumerated() {
        require(after.offset == Int64(index), "round trip offset \(after.offset) at \(index)")
        require(before.timestamp == after.timestamp, "round trip changed timestamp \(before.timestamp) to \(after.timestamp)")
        require(before.key == after.key && before.value == after.value, "round trip changed a key or value at \(index)")
        require(before.headers == after.headers, "round trip changed headers at \(index)")
    }
}

private func catching(_ body: () throws -> Void) -> StreamStoreError? {
    do {
        try body()
        return nil
    } catch let error as StreamStoreError {
        return error
    } catch {
        fatalError("threw \(error), which is not a StreamStoreError")
    }
}
