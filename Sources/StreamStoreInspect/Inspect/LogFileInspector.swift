import StreamStore
import StreamStoreFormat
import StreamStoreLog
/// Walks one `.log` file batch by batch for inspection (`stream-tool dump`), without opening
/// the store: the file is read with `pread`, never mapped, so it can be inspected while another
/// process appends to it, and a file shorter than expected is reported rather than faulting.
///
/// Unlike recovery, which stops at the first bad byte, the walk goes past a damaged batch when its
/// length and magic still frame it (a CRC mismatch, offsets that do not follow on, a codec
/// StreamStore does not read), so one flipped bit does not hide the rest of the file. It stops
/// where no batch can be framed, and says why (``End``).
///
/// ```swift
/// let inspector = try LogFileInspector(path: "store/orders/0/00000000000000000000.log")
/// let end = try inspector.forEachBatch { batch in print(batch.position, batch.baseOffset, batch.problems) }
/// print(end.sentence)
/// ```
package struct LogFileInspector {
    /// The file as given to ``init(path:)``.
    package let path: String
    /// The file's size when it was opened.
    package let fileBytes: Int64
    /// The base offset the file name gives (docs/FORMAT.md, section 1), which the first batch
    /// must have; nil when the name is not a segment's (a copied file), so any first offset goes.
    package let baseOffset: Int64?
    private let file: File

    /// How the walk ended.
    package enum End: Sendable, Equatable {
        /// Every byte of the file belongs to a batch that was handed out.
        case complete
        /// The file ends inside the batch at `position` (a torn write, or a file being appended
        /// to): `presentBytes` of its `neededBytes` are there.
        case truncated(position: Int64, presentBytes: Int64, neededBytes: Int64)
        /// The bytes at `position` cannot be framed as a batch (a length out of range, a wrong
        /// magic byte, zeroes); nothing after them can be read either.
        case unreadable(position: Int64, reason: String)

        /// What the end means, as a sentence for reports.
        package var sentence: String {
            switch self {
            case .complete: return "the file ends on a batch boundary"
            case .truncated(let position, let present, let needed):
                return "the file ends inside the batch at byte \(position): \(present) of its \(needed) bytes are present"
            case .unreadable(let position, let reason):
                return "the bytes at \(position) are not a batch (\(reason)); nothing after them can be read"
            }
        }
    }

    /// Opens `path` read-only (never following a symbolic link).
    package init(path: String) throws(StreamStoreError) {
        self.path = path
        file = try File.open(path, create: false, readOnly: true, fileSystem: PosixFileSystem.shared)
        fileBytes = try file.size()
        baseOffset = SegmentFilePath(path).map(\.baseOffset)
    }

    /// Calls `body` with each batch from the start of the file, in file order, sound or damaged,
    /// and returns how the file ended. Errors thrown by `body` stop the walk and are rethrown.
    package func forEachBatch(_ body: (InspectedBatch) throws -> Void) throws -> End {
        var position: Int64 = 0
        var expected = baseOffset
        var readBytes = LogScanner.chunkBytes
        while position < fileBytes {
            let requested = Int(min(Int64(readBytes), fileBytes - position))
            let chunk = try read(byteCount: requested, at: position)
            // Shorter than asked: the file shrank since it was opened.
            let isShort = chunk.count < requested
            if chunk.isEmpty {
                return .truncated(position: position, presentBytes: 0, neededBytes: Int64(BatchHeader.lengthPrefixSize))
            }
            let chunkEnd = position + Int64(chunk.count)
            let parsed = BatchParser.parse(chunk)
            var start = 0
            for batch in parsed.batches {
                let problems = Self.offsetProblems(batch.header, expected: &expected)
                try body(
                    InspectedBatch(
                        header: batch.header, position: position + Int64(start), bytes: chunk, batchStart: start,
                        computedCRC: batch.header.crc, problems: problems, path: path))
                start += batch.header.totalBytes
            }
            position += Int64(parsed.consumedBytes)
            readBytes = LogScanner.chunkBytes
            if let reason = parsed.corruption {
                guard let damaged = try damagedBatch(at: position, reason: reason, expected: &expected) else {
                    return .unreadable(position: position, reason: reason)
                }
                try body(damaged)
                position += Int64(damaged.byteCount)
            } else if let needed = parsed.incompleteBatchBytes {
                if position + Int64(needed) > chunkEnd && (isShort || chunkEnd >= fileBytes) {
                    return .truncated(position: position, presentBytes: chunkEnd - position, neededBytes: Int64(needed))
                }
                // A batch larger than one chunk: read it whole next time round.
                readBytes = max(readBytes, needed)
            }
        }
        return .complete
    }

    /// The batch at `position`, which failed a check, when its framing is still sound: a length
    /// in range with all its bytes present, and magic 2. Nil when the walk cannot go on.
    private func damagedBatch(at position: Int64, reason: String, expected: inout Int64?) throws(StreamStoreError) -> InspectedBatch? {
        let available = fileBytes - position
        guard available >= Int64(BatchHeader.size) else { return nil }
        let prefix = try read(byteCount: BatchHeader.lengthPrefixSize, at: position)
        guard prefix.count == BatchHeader.lengthPrefixSize else { return nil }
        let batchLength = prefix.withUnsafeBytes { BigEndian.load(Int32.self, $0.baseAddress!, BatchHeader.Field.batchLength) }
        let total = Int64(batchLength) + Int64(BatchHeader.lengthPrefixSize)
        guard batchLength >= Int32(BatchHeader.size - BatchHeader.lengthPrefixSize), total <= Int64(Limits.maxBatchBytes), total <= available else {
            return nil
        }
        let bytes = try read(byteCount: Int(total), at: position)
        guard bytes.count == Int(total) else { return nil }
        let (header, computed) = bytes.withUnsafeBytes { raw in
            (
                BatchHeader(loadingFrom: raw.baseAddress!),
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[BatchHeader.Field.attributes...]))
            )
        }
        guard header.magic == BatchHeader.magicValue else { return nil }
        let problems = [reason] + Self.offsetProblems(header, expected: &expected)
        return InspectedBatch(header: header, position: position, bytes: bytes, batchStart: 0, computedCRC: computed, problems: problems, path: path)
    }

    /// Offsets are dense (docs/FORMAT.md, section 2): a batch must start where the previous one
    /// ended, the first at the file's base offset.
    private static func offsetProblems(_ header: BatchHeader, expected: inout Int64?) -> [String] {
        var problems: [String] = []
        if let wanted = expected, header.baseOffset != wanted {
            problems.append("base offset \(header.baseOffset), expected \(wanted): offsets must follow on without gaps")
        }
        let sane = header.lastOffsetDelta >= 0 && header.baseOffset >= 0 && header.baseOffset < Int64.max - Int64(header.lastOffsetDelta)
        expected = sane ? header.nextOffset : nil
        return problems
    }

    private func read(byteCount: Int, at position: Int64) throws(StreamStoreError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: byteCount)
        let got = try withMutableBytes(&buffer) { (raw) throws(StreamStoreError) in try file.read(into: raw, at: position) }
        if got < byteCount { buffer.removeLast(byteCount - got) }
        return buffer
    }
}
