#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of StreamStore: a code, the context it happened in, and a message that
/// says what to do about it.
///
/// I/O failures are thrown as `.io`; corrupt bytes found on disk are data (reported, truncated
/// or skipped by recovery) and only reach callers as `.corruptBatch` when a read meets them.
public struct StreamStoreError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, in a form code can switch on.
    public enum Code: Sendable, Equatable, CustomStringConvertible {
        /// A system call failed with this `errno` (`ENOSPC` for a full disk, `EACCES`, ...); the
        /// message names the operation and the path.
        case io(errno: Int32)
        /// Another process (or another `Store` in this one) has the store open.
        case storeLocked
        /// The folder is missing (and may not be created), or holds files but no `store.json`.
        case notAStore
        /// A file was written by a newer StreamStore than this one reads.
        case unsupportedFormatVersion
        /// The store was closed (or dropped) before or during the call.
        case storeClosed
        /// No topic of that name exists.
        case unknownTopic
        /// A topic of that name exists with another config.
        case topicExists
        /// The name breaks Kafka's rule: 1 to 249 of `a-z A-Z 0-9 . _ -`, not `.` or `..`.
        case invalidTopicName
        /// A setting or option is out of its range; the message says which and why.
        case invalidConfig
        /// The topic has no partition of that number.
        case partitionOutOfRange
        /// The offset is below the log start (retention removed it) or past the log end.
        case offsetOutOfRange
        /// A record is larger than `Limits.maxRecordBytes`.
        case recordTooLarge
        /// A batch would hold more than `Limits.maxRecordsPerBatch` records or
        /// `Limits.maxBatchBytes` bytes.
        case batchTooLarge
        /// A record has more than `Limits.maxHeadersPerRecord` headers.
        case tooManyHeaders
        /// An append was given a batch without records.
        case emptyBatch
        /// A record's timestamp is further ahead of the store's clock than the topic's
        /// `maxTimestampSkewMilliseconds`.
        case timestampInFuture
        /// Bytes read from a log are not a whole, valid batch (length, magic, CRC32C, offsets, or a
        /// frame that does not decompress).
        case corruptBatch
        /// A partition refuses writes; reserved (a failed fsync fences a partition with the `.io`
        /// error it got).
        case partitionFenced
        /// No consumer group of that name has committed offsets.
        case unknownGroup
        /// The group name breaks the rule topic names follow.
        case invalidGroupName
        /// A group operation that needs the group idle (a reset) met active members.
        case groupActive
        /// A consumer committed a partition that is no longer assigned to it.
        case partitionNotAssigned
        /// A corrupt snapshot, or one that no longer matches its projection.
        case corruptSnapshot
        /// A projection's `apply` threw, or its state could not be encoded for a snapshot.
        case projectionFailed
        /// An append stated an `expectedNextOffset` that another append had already taken.
        case offsetConflict
        /// An idempotent producer's epoch is older than the partition's: a newer instance of the
        /// producer took over, and this one must stop.
        case producerFenced
        /// An idempotent producer's batch does not continue its sequence (a gap or a reorder).
        case outOfOrderSequence
        /// A `message-id` header a de-duplicated topic cannot keep (too long).
        case invalidMessageID
        /// A record read from a dead-letter topic lacks the headers that say where it came from.
        case invalidDeadLetter
        /// A write through a store opened read-only (`Store.Options.mode`): only the process
        /// that opened the store for writing may change it.
        case readOnly
        /// A `store.json` or `topic.json` that does not decode.
        case corruptManifest
        /// A `topic.json` that names another topic than the folder it lies in.
        case topicConfigMismatch
        /// A partition folder with no segment to append to, after recovery or at a roll.
        case missingActiveSegment
        /// A consumer group's offset log that does not start with its header.
        case corruptGroupOffsets
        /// A file the store reads whole is larger than any it writes there (see ``Limits``).
        case fileTooLarge
        /// A record header key longer than ``Limits/maxHeaderKeyBytes``.
        case headerKeyTooLong
        /// The compressor refused a batch.
        case compressionFailed
        /// An argument outside its range (a negative limit).
        case invalidArgument
        /// A projection name that is not a valid folder name.
        case invalidProjectionName
        /// An event's `schema-version` is newer than the version the reader's Swift type knows:
        /// the event was written by a newer producer. Deploy a reader that knows the version, or
        /// let the decoder skip newer events (`EventDecoder.NewerVersionPolicy.skip`).
        case eventVersionTooNew
        /// An event's `schema-version` is older than the reader's, and no upcaster turns one of
        /// the versions between them into the next.
        case missingUpcaster
        /// An event's value does not decode into its Swift type: not JSON, not of the expected
        /// event type, an invalid `schema-version`, an upcaster that threw, or JSON whose shape
        /// the type does not accept.
        case eventDecodingFailed
        /// An event could not be encoded as JSON (a non-finite number, say).
        case eventEncodingFailed

        /// The code's name, as written in messages and by the CLI (`offsetOutOfRange`).
        public var description: String {
            switch self {
            case .io(let errno): return "io(\(String(cString: strerror(errno))))"
            case .storeLocked: return "storeLocked"
            case .notAStore: return "notAStore"
            case .unsupportedFormatVersion: return "unsupportedFormatVersion"
            case .storeClosed: return "storeClosed"
            case .unknownTopic: return "unknownTopic"
            case .topicExists: return "topicExists"
            case .invalidTopicName: return "invalidTopicName"
            case .invalidConfig: return "invalidConfig"
            case .partitionOutOfRange: return "partitionOutOfRange"
            case .offsetOutOfRange: return "offsetOutOfRange"
            case .recordTooLarge: return "recordTooLarge"
            case .batchTooLarge: return "batchTooLarge"
            case .tooManyHeaders: return "tooManyHeaders"
            case .emptyBatch: return "emptyBatch"
            case .timestampInFuture: return "timestampInFuture"
            case .corruptBatch: return "corruptBatch"
            case .partitionFenced: return "partitionFenced"
            case .unknownGroup: return "unknownGroup"
            case .invalidGroupName: return "invalidGroupName"
            case .groupActive: return "groupActive"
            case .partitionNotAssigned: return "partitionNotAssigned"
            case .corruptSnapshot: return "corruptSnapshot"
            case .projectionFailed: return "projectionFailed"
            case .offsetConflict: return "offsetConflict"
            case .producerFenced: return "producerFenced"
            case .outOfOrderSequence: return "outOfOrderSequence"
            case .invalidDeadLetter: return "invalidDeadLetter"
            case .invalidMessageID: return "invalidMessageID"
            case .readOnly: return "readOnly"
            case .corruptManifest: return "corruptManifest"
            case .topicConfigMismatch: return "topicConfigMismatch"
            case .missingActiveSegment: return "missingActiveSegment"
            case .corruptGroupOffsets: return "corruptGroupOffsets"
            case .fileTooLarge: return "fileTooLarge"
            case .headerKeyTooLong: return "headerKeyTooLong"
            case .compressionFailed: return "compressionFailed"
            case .invalidArgument: return "invalidArgument"
            case .invalidProjectionName: return "invalidProjectionName"
            case .eventVersionTooNew: return "eventVersionTooNew"
            case .missingUpcaster: return "missingUpcaster"
            case .eventDecodingFailed: return "eventDecodingFailed"
            case .eventEncodingFailed: return "eventEncodingFailed"
            }
        }
    }

    /// What went wrong, for code to switch on.
    public var code: Code
    /// A full sentence: what happened and what to do.
    public var message: String
    /// The file or folder involved, when there is one.
    public var path: String?
    /// The topic involved, when there is one.
    public var topic: String?
    /// The partition involved, when there is one.
    public var partition: Int?
    /// The offset involved, when there is one.
    public var offset: Int64?
    /// Set by a call that was given several records and failed part-way
    /// (`Topic.append(_:)` of records bound for several partitions, `Producer.send(_:)` of
    /// an array): for each record given, in the order given, where it lies now when it was
    /// written (as durable as its topic's flush policy promises, like any acknowledged record),
    /// nil when it was not. Nil when the call wrote none of them. A caller that resends what
    /// failed resends exactly the records whose entry is nil, and none twice.
    public var writtenRecords: [RecordOffset?]?

    /// An error with a code, a message that is a full sentence, and whatever context applies.
    public init(
        _ code: Code, _ message: String, path: String? = nil, topic: String? = nil,
        partition: Int? = nil, offset: Int64? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// The message, followed by its context in brackets: topic, partition, offset, path, and how
    /// many records were written after a partial failure. A topic or path the message already
    /// names is not repeated, so a long name shows once.
    public var description: String {
        var context: [String] = []
        if let topic, !message.mentions(quoted(topic)) { context.append("topic \(quoted(topic))") }
        if let partition { context.append("partition \(partition)") }
        if let offset { context.append("offset \(offset)") }
        if let path, !message.mentions(quoted(path)) { context.append(quoted(path)) }
        if let writtenRecords {
            context.append("\(writtenRecords.count { $0 != nil }) of the \(writtenRecords.count) records were written")
        }
        return context.isEmpty ? message : "\(message) [\(context.joined(separator: ", "))]"
    }

    /// Whether the filesystem is out of space (`ENOSPC`) or the user out of quota (`EDQUOT`):
    /// a failure that changes nothing once the write that met it was undone.
    package var isOutOfSpace: Bool { code == .io(errno: ENOSPC) || code == .io(errno: EDQUOT) }

    /// An I/O failure of `operation` on `path`, from the errno the call left.
    package static func io(_ operation: String, path: String, errno code: Int32) -> StreamStoreError {
        let reason = String(cString: strerror(code))
        var advice = ""
        switch code {
        case ENOSPC, EDQUOT: advice = " Free disk space (or lower retention); acknowledged data is unaffected."
        case EACCES, EPERM: advice = " Check the permissions of the store folder."
        case EROFS: advice = " The file system is read-only."
        case EMFILE, ENFILE: advice = " Raise the open-file limit (ulimit -n)."
        default: break
        }
        return StreamStoreError(.io(errno: code), "\(operation) failed: \(reason).\(advice)", path: path)
    }

    /// Adds the topic and partition to an error thrown below the partition layer.
    package func with(topic: String, partition: Int) -> StreamStoreError {
        var copy = self
        if copy.topic == nil { copy.topic = topic }
        if copy.partition == nil { copy.partition = partition }
        return copy
    }
}

extension String {
    /// True when `name` appears in the text as a word of its own: not inside a longer name
    /// (topic `a` is not mentioned by "a partition" of topic `ab`, nor by "data").
    fileprivate func mentions(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        let isNameCharacter: (Character) -> Bool = { $0.isLetter || $0.isNumber || "._-/".contains($0) }
        var searchStart = startIndex
        while let found = self[searchStart...].firstRange(of: name) {
            let before = found.lowerBound == startIndex ? nil : self[index(before: found.lowerBound)]
            let after = found.upperBound == endIndex ? nil : self[found.upperBound]
            // A sentence's full stop right after a name still ends it.
            let afterEndsName = after.map { !isNameCharacter($0) || ($0 == "." && isSentenceEnd(after: found.upperBound)) } ?? true
            if before.map({ !isNameCharacter($0) }) ?? true, afterEndsName { return true }
            searchStart = index(after: found.lowerBound)
        }
        return false
    }

    private func isSentenceEnd(after dot: Index) -> Bool {
        let next = index(after: dot)
        return next == endIndex || self[next] == " "
    }
}
