#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import StreamStore
import StreamStoreInspect

extension StreamTool {
    /// `stream-tool dump FILE`: what one segment or index file holds, byte position by byte
    /// position, including what is wrong with it.
    ///
    /// Reads the file directly, without opening the store, so it works on a store another
    /// process has open and on files copied out of a store.
    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the batches of a segment's .log file, or the entries of an .index or .timeindex file.",
            discussion: """
                A .log file: a row per batch with its byte position, base and last offset, \
                record count, size on disk and uncompressed, codec, timestamp type (create or \
                append), first and largest timestamp, and whether its CRC32C matches; notes say \
                what else is wrong (offsets that do not follow on, records that do not decode) \
                and show producer ids and control batches. A damaged batch whose length still \
                frames it is shown and the walk goes on; a truncated or unreadable end is \
                reported. --records prints every record under its batch.

                An .index or .timeindex file: its entries with their offsets made absolute (and \
                timestamps as ISO 8601), the zeroed slots preallocated for an active segment, \
                and whether the entries are in order.

                --verify-index checks the index against the log: every entry must name the \
                start of a batch, time entries must not understate timestamps, and the entries \
                must be those the writer makes (using indexIntervalBytes from the topic's \
                topic.json). Given a .log file, it checks both its indexes.

                FILE is a path, or a path inside the store folder (orders/0/00000000000000000000.log \
                finds the file in the store that --store names). The store itself is not opened, \
                so dump works while another process has it open. Exits 0 when the file is sound, \
                3 when a problem was found (as verify does), 1 when the file cannot be read.

                --json prints one JSON document: file, kind (log, offsetIndex or timeIndex), \
                baseOffset, fileBytes; for a log, batches (each with position, baseOffset, \
                lastOffset, recordCount, bytes, uncompressedBytes, partitionLeaderEpoch, magic, \
                crc, computedCrc, crcValid, attributes, codec, timestampType, transactional, \
                control, baseTimestamp, maxTimestamp, producerId, producerEpoch, baseSequence, \
                problems, and with --records the records as replay --format json shows them), \
                end (status complete, truncated or unreadable), batchCount and recordCount; for \
                an index, entries (timestamp, relativeOffset, offset, position), \
                preallocatedSlots, trailingBytes and indexProblems; with --verify-index, \
                indexChecks; and problems, the number of problems found.
                """)

        /// The exit status when the file has a problem: the same as verify's.
        static let problemsExitCode = StreamTool.Verify.problemsExitCode

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(
            help: ArgumentHelp("A segment file: <base offset, 20 digits>.log, .index or .timeindex.", valueName: "file"),
            completion: .file(extensions: ["log", "index", "timeindex"]))
        var file: String

        @Flag(help: "Print every record of a .log file under its batch.")
        var records = false

        @Flag(name: .customLong("verify-index"), help: "Check the index (or a .log file's two indexes) against the log.")
        var verifyIndex = false

        @Flag(help: "Print one JSON document instead of tables.")
        var json = false

        func run() async throws {
            var problems = 0
            try await reportingErrors {
                let path = try Self.checkedPath(Self.resolved(file, store: storeOptions.resolved(parent: root.storeOptions).path))
                let output = BufferedOutput()
                if let segment = SegmentFilePath(path), segment.kind != .log {
                    var dump = IndexDump(file: segment, json: json, output: output)
                    problems = try dump.run(verifyAgainstLog: verifyIndex)
                } else {
                    var dump = LogDump(path: path, json: json, showRecords: records, output: output)
                    problems = try dump.run(verifyIndexes: verifyIndex)
                }
                try output.flush()
            }
            if problems > 0 { throw ExitCode(Self.problemsExitCode) }
        }

        /// `path` as given when something is there, else the same path inside the store folder
        /// when something is there, else `path` (and the error names it).
        static func resolved(_ path: String, store: String) -> String {
            var info = stat()
            guard !path.hasPrefix("/"), stat(path, &info) != 0 else { return path }
            let inStore = (store.hasSuffix("/") ? store : store + "/") + path
            return stat(inStore, &info) == 0 ? inStore : path
        }

        /// `path` when it names a readable segment file, else an error that says what dump takes.
        static func checkedPath(_ path: String) throws(ToolError) -> String {
            var info = stat()
            guard stat(path, &info) == 0 else {
                let reason = String(cString: strerror(errno))
                throw ToolError(
                    "Cannot read \(path): \(reason). Segment files lie in STORE/TOPIC/PARTITION/, named by their base offset, like 00000000000000000000.log.")
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                throw ToolError(
                    "\(path) is a folder; dump takes one file, like \(path.hasSuffix("/") ? path : path + "/")00000000000000000000.log.")
            }
            guard let kind = SegmentFilePath.Kind(path: path) else {
                throw ToolError("\(path) is not a segment file: dump reads .log, .index and .timeindex files.")
            }
            if kind != .log && SegmentFilePath(path) == nil {
                throw ToolError(
                    "\(path) is not named like a segment file (its base offset in 20 digits, like 00000000000000000000\(kind.suffix)), so the offsets of its entries are unknown; give it its segment's name.")
            }
            return path
        }
    }
}
