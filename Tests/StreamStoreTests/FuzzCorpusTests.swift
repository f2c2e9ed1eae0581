import Foundation
import StreamStoreFuzzEntryPoints
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog

/// The committed corpora of the fuzz targets (`Fuzz/Corpus/<target>`), each input run once
/// through the entry points its target drives (Fuzz/README.md), with the target's invariants,
/// without fuzzing: so `make test` notices an engine change that breaks on a seed, which
/// otherwise only `make fuzz` would. The Kafka target's corpus is replayed by
/// KafkaFuzzCorpusTests. The libFuzzer builds themselves (`--sanitize fuzzer`, release) take
/// minutes, so these run in the test process instead.
@Suite(.timeLimit(.minutes(5))) struct FuzzCorpusTests {
    /// Enough for the whole committed corpora; a larger one is sampled, to stay quick.
    static let maxInputs = 64

    static func corpus(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/Corpus/\(target)").standardized
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(!names.isEmpty, "no corpus at \(folder.path)")
        return try names.prefix(maxInputs).map { ($0, [UInt8](try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    // MARK: batch-decoder

    @Test func batchDecoderCorpus() throws {
        let decompressor = FuzzDecompressor()
        var decoded = 0
        for (name, input) in try Self.corpus("batch-decoder") {
            var bytes = input
            bytes.withUnsafeMutableBytes { _ = FuzzEntryPoints.fixChecksums($0) }
            for batch in FuzzEntryPoints.parseBatches(bytes).batches {
                decoded += decode(batch, decompressor: decompressor, input: name)
            }
        }
        #expect(decoded > 0, "no record of the corpus decoded: the replay checked nothing")
    }

    /// The target's checks of one batch; returns how many records decoded.
    private func decode(_ batch: StoredBatch, decompressor: FuzzDecompressor, input: String) -> Int {
        #expect(batch.recordCount >= 0 && batch.lastOffset >= batch.baseOffset && batch.nextOffset == batch.lastOffset + 1, "\(input)")
        let plain: StoredBatch
        do {
            plain = try FuzzEntryPoints.decompressed(batch, with: decompressor)
        } catch {
            #expect(error.code == .corruptBatch, "\(input): decompression threw \(error.code)")
            return 0
        }
        #expect(!FuzzEntryPoints.isCompressed(plain), "\(input)")
        var viewed: [StoredRecord] = []
        let viewError = Self.catching {
            try plain.forEachRecord { record in
                #expect(record.offset >= plain.baseOffset && record.offset <= plain.lastOffset, "\(input)")
                let headers = record.headers
                #expect(headers.count == record.headerCount, "\(input)")
                viewed.append(StoredRecord(
                    offset: record.offset, timestamp: record.timestamp, key: record.key.map { ArraySlice($0) },
                    value: record.value.map { ArraySlice($0) }, headers: headers))
            }
        }
        var stored: [StoredRecord] = []
        let storedError = Self.catching { stored = try plain.storedRecords() }
        #expect((viewError == nil) == (storedError == nil), "\(input): views and values disagree on whether the batch decodes")
        if let viewError {
            #expect(viewError.code == .corruptBatch, "\(input): record decoding threw \(viewError.code)")
            return 0
        }
        #expect(plain.isControl ? stored.isEmpty : stored.count == plain.recordCount, "\(input)")
        #expect(viewed == stored, "\(input): forEachRecord and storedRecords decoded different records")
        guard !stored.isEmpty else { return 0 }
        // Encoded again, the records decode the same (offsets dense from the new base).
        var again = RecordBatch()
        for record in stored {
            guard (try? again.append(key: record.key.map(Array.init), value: record.value.map(Array.init), headers: record.headers, timestamp: record.timestamp)) != nil
            else { return stored.count }
        }
        let encoded = FuzzEntryPoints.encode(again, baseOffset: 0, appendTimeMilliseconds: 0)
        let reparsed = FuzzEntryPoints.parseBatches(encoded, expectedBaseOffset: 0)
        #expect(reparsed.batches.count == 1 && reparsed.stop == nil, "\(input): a batch encoded from decoded records does not parse")
        let back = (try? reparsed.batches.first?.storedRecords()) ?? []
        #expect(back.map(\.key) == stored.map(\.key) && back.map(\.value) == stored.map(\.value), "\(input): round trip changed a key or value")
        #expect(back.map(\.headers) == stored.map(\.headers) && back.map(\.timestamp) == stored.map(\.timestamp), "\(input): round trip changed headers or timestamps")
        return stored.count
    }

    private static func catching(_ body: () throws -> Void) -> StreamStoreError? {
        do {
            try body()
            return nil
        } catch {
            guard let error = error as? StreamStoreError else {
                Issue.record("threw \(error), which is not a StreamStoreError")
                return nil
            }
            return error
        }
    }

    // MARK: index-validation

    /// The validators and searches (the target's first half; its second writes the indexes over
    /// a seed store's segment, which only the fuzz package builds): an index the validator
    /// accepts is searched as a linear search would.
    @Test func indexValidationCorpus() throws {
        var accepted = 0
        for (name, input) in try Self.corpus("index-validation") {
            var rest = input[...]
            _ = rest.popFirst()  // the flags byte: which segment of the target's seed store
            let low = rest.popFirst() ?? 0
            let high = rest.popFirst() ?? 0
            let split = min(Int(low) | Int(high) << 8, rest.count)
            let offsetBytes = Array(rest.prefix(split))
            let timeBytes = Array(rest.dropFirst(split))
            for (logBytes, span) in [(Int64(1 << 20), Int64?(1 << 16)), (Int64(UInt32.max) + 1, nil)] {
                if FuzzEntryPoints.validateOffsetIndex(offsetBytes, logBytes: logBytes, segmentEntries: span) == nil {
                    accepted += 1
                    let relatives = stride(from: 0, to: offsetBytes.count, by: 8).map { FormatBytes.uint(offsetBytes, $0, 4) }.map { UInt32($0) }
                    for target in Set(relatives.flatMap { [$0 &- 1, $0, $0 &+ 1] } + [0, UInt32.max]) {
                        #expect(FuzzEntryPoints.searchOffsetIndex(offsetBytes, relativeOffset: target) == relatives.lastIndex { $0 <= target }, "\(name): offset \(target)")
                    }
                }
                if FuzzEntryPoints.validateTimeIndex(timeBytes, segmentEntries: span) == nil {
                    accepted += 1
                    let stamps = stride(from: 0, to: timeBytes.count - timeBytes.count % 12, by: 12).map { FormatBytes.int64(timeBytes, $0) }
                    for target in Set(stamps.flatMap { [$0 &- 1, $0, $0 &+ 1] } + [Int64.min, Int64.max]) {
                        #expect(FuzzEntryPoints.searchTimeIndex(timeBytes, timestamp: target) == stamps.lastIndex { $0 < target }, "\(name): timestamp \(target)")
                    }
                }
            }
        }
        #expect(accepted > 0, "the validators accepted no index of the corpus: the searches went unchecked")
    }

    // MARK: segment-recovery

    /// Each input's log bytes (CRCs and offsets fixed as its flags say) as the whole active
    /// segment of a crashed store: open recovers it, keeps exactly the batches the parser
    /// accepts, reads dense offsets to the log end, and an append lands there and reads back.
    @Test func segmentRecoveryCorpus() async throws {
        var kept = 0
        for (name, input) in try Self.corpus("segment-recovery") {
            let flags = input.first ?? 0
            var tail = Array(input.dropFirst(9))
            if flags & 0x01 != 0 {
                tail.withUnsafeMutableBytes { _ = FuzzEntryPoints.fixChecksums($0, denseFrom: flags & 0x02 != 0 ? 0 : nil) }
            }
            let fixture = try StoreFixture()
            _ = try fixture.topic(config: TopicConfig(flush: .never, compression: flags & 0x20 != 0 ? .zstd(level: 3) : .none))
            fixture.crash()
            let log = try #require(try fixture.segmentFiles().first)
            try Data(tail).write(to: URL(fileURLWithPath: log))
            let parsed = FuzzEntryPoints.parseBatches(tail, expectedBaseOffset: 0)
            let end = parsed.batches.last?.nextOffset ?? 0

            let store = try fixture.open()
            let topic = try store.topic("events")
            #expect(try topic.logEndOffset(partition: 0) == end, "\(name): recovery ends the log where the parser stops (\(parsed.stop ?? "clean end"))")
            let records = try fixture.readAll(topic)
            #expect(records.map(\.offset) == Array(0..<end), "\(name): offsets dense to the log end")
            kept += records.count
            let receipt = try await topic.append([Record(value: "after \(name)")], partition: 0)
            #expect(receipt.baseOffset == end, "\(name)")
            #expect(try topic.read(partition: 0, from: end).first?.valueString == "after \(name)", "\(name)")
            try fixture.expectConsistent()
        }
        #expect(kept > 0, "recovery kept no record of the corpus: the reads went unchecked")
    }

    // MARK: json-line

    @Test func jsonLineCorpus() throws {
        var parsed = 0
        for (name, line) in try Self.corpus("json-line") {
            let outcome = line.withUnsafeBytes { raw in
                Result { () throws(JSONLineParser.Failure) -> JSONLineRecord in try JSONLineParser.parse(raw) }
            }
            switch outcome {
            case .success: parsed += 1
            case .failure(let failure): #expect(!failure.message.isEmpty, "\(name): a failure without a message")
            }
            // Base64 of the line's bytes decodes to them; a timestamp in it formats back to itself.
            let text = String(decoding: line, as: UTF8.self)
            if let milliseconds = ISO8601.parse(text), (0..<253_402_300_800_000).contains(milliseconds) {
                #expect(ISO8601.parse(ISO8601.format(milliseconds: milliseconds)) == milliseconds, "\(name)")
            }
        }
        #expect(parsed > 0, "no line of the corpus parsed")
    }
}
