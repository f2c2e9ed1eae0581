import StreamStore
import StreamStoreFormat
import StreamStoreLog
/// Walks one `.log` file batch by batch for inspection (`stream-tool dump`), without opening
/// the store: the file is read with `pread`, never mapped, so it can be inspected while another
/// process appends to it, and a file shorter than expected is reported rather than faulting.
///
/// Unlike recovery, which stops at the first bad byte, the walk (a ``LogReader`` with the
/// `.report` policy) goes past a damaged batch when its length and magic still frame it (a CRC
/// mismatch, offsets that do not follow on, a codec StreamStore does not read), so one flipped
/// bit does not hide the rest of the file. It stops where no batch can be framed, and says why
/// (``End``).
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
        var reader = LogReader(file: file, to: fileBytes, offsets: .dense(firstBaseOffset: baseOffset), policy: .report, requiresReadableCodec: true)
        while let batch = try reader.next() {
            var problems = batch.damage.map { [$0] } ?? []
            if let wanted = batch.expectedBaseOffset {
                problems.append("base offset \(batch.header.baseOffset), expected \(wanted): offsets must follow on without gaps")
            }
            let (bytes, start) = reader.sharedBytes(of: batch)
            try body(
                InspectedBatch(
                    header: batch.header, position: batch.position, bytes: bytes, batchStart: start, computedCRC: batch.computedCRC,
                    problems: problems, path: path))
        }
        switch reader.stop {
        case .torn(let position, let needed, let available):
            return .truncated(position: position, presentBytes: available, neededBytes: Int64(needed))
        case .corrupt(let position, let reason):
            return .unreadable(position: position, reason: reason)
        case .end, .stopped, nil:
            return .complete
        }
    }
}
