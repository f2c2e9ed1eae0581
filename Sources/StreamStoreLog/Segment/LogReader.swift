import StreamStoreFormat

/// Reads a `.log` file batch by batch: the one walk of the log that reads, `verify`, recovery,
/// index rebuilds and the file inspector all share.
///
/// It reads the file in chunks (``chunkBytes`` by default, or what the caller asks), grows its
/// buffer to a whole batch when one is larger than a chunk, and checks every batch (length,
/// magic, CRC32C, counts; dense offsets and a readable codec when asked, docs/FORMAT.md section
/// 2) before handing it out. What happens at a batch that fails a check is the caller's choice
/// (``CorruptionPolicy``); a file that ends inside a batch is torn, never corrupt.
///
/// ```swift
/// var reader = LogReader(file: log, to: try log.size(), offsets: .dense(firstBaseOffset: 0))
/// while let batch = try reader.next() { print(batch.position, batch.header.baseOffset) }
/// print(reader.stop?.sentence ?? "")
/// ```
///
/// A ``Batch`` is a position in the reader's buffer, valid until the next call of ``next()``:
/// its bytes are reached through the reader (``withBytes(of:_:)``, ``storedBatch(_:)``), so a
/// scan that only looks at headers never retains a buffer, and the reader reads its next chunk
/// into the same memory. Once a batch's bytes are handed out as an array, the next chunk goes
/// into a new buffer instead of copying the old one under the caller's feet.
package struct LogReader {
    /// Bytes read per system call by default: large enough that a scan runs at disk speed.
    package static let chunkBytes = 4 * 1024 * 1024

    /// What the reader does at a batch that fails a check.
    package enum CorruptionPolicy: Sendable, Equatable {
        /// End the walk there; ``stop`` says where and why (recovery, reads, index rebuilds).
        case stop
        /// Hand the batch out with its damage when its length and magic still frame it, and go
        /// on after it, so one flipped bit does not hide the rest of a file (`dump`). The walk
        /// ends where no batch can be framed.
        case report
        /// Pass over such a batch without handing it out (``skipped`` lists it), and go on.
        case skip
    }

    /// Whether offsets are checked to follow on from batch to batch.
    package enum OffsetCheck: Sendable, Equatable {
        case unchecked
        /// Each batch must begin where the previous one ended, the first at `firstBaseOffset`
        /// (any first offset when nil). After a damaged batch whose offsets make no sense, the
        /// next batch starts the chain again.
        case dense(firstBaseOffset: Int64?)
    }

    /// Why a walk ended.
    package enum Stop: Sendable, Equatable {
        /// Reached the end position exactly on a batch boundary.
        case end
        /// The bytes at `position` are not a valid batch.
        case corrupt(position: Int64, reason: String)
        /// The file ends inside a batch at `position` (a torn write).
        case torn(position: Int64, neededBytes: Int, availableBytes: Int64)
        /// The caller ended the walk (``stopHere()``); `position` is the end of the last batch
        /// it was given.
        case stopped(position: Int64)
    }

    /// One batch of the walk: its header, where it lies, and what failed, if anything.
    package struct Batch {
        package let header: BatchHeader
        /// Byte position of the batch in the file.
        package let position: Int64
        /// Why the batch failed a check (a CRC mismatch, a codec StreamStore does not read); nil
        /// when it passed. Only the `.report` policy hands out such batches.
        package let damage: String?
        /// The base offset the batch should have had, when offsets are checked and its own is
        /// another (only with `.report`).
        package let expectedBaseOffset: Int64?
        /// The CRC32C of the bytes the stored one covers: the stored one for a batch that passed.
        package let computedCRC: UInt32
        /// Where the batch starts in the reader's buffer, and which buffer that is.
        fileprivate let start: Int
        fileprivate let generation: Int

        package var isSound: Bool { damage == nil && expectedBaseOffset == nil }
        /// Byte position just past the batch.
        package var endPosition: Int64 { position + Int64(header.totalBytes) }
    }

    /// A batch the `.skip` policy passed over.
    package struct Skipped: Sendable, Equatable {
        package let position: Int64
        package let reason: String
    }

    private let file: File
    /// Where the walk ends: a sealed log's size, or the active segment's visible end.
    package let endPosition: Int64
    /// Bytes the next read of the file asks for (or the whole batch, when it is larger). A
    /// reader with a budget shrinks it as the budget is spent, so it never reads far past it.
    package var chunkBytes: Int {
        didSet { chunkBytes = max(chunkBytes, BatchHeader.size) }
    }
    /// No fetch reads past this file position: a batch that would end past it ends the walk
    /// (``stop`` is `.stopped`) without being read. A read that has decided where its batches
    /// end sets it, so it never reads a batch it would then leave for the next read.
    package var readLimit = Int64.max
    private let policy: CorruptionPolicy
    private let requiresReadableCodec: Bool
    let buffers: ReadBuffers?
    private let checksOffsets: Bool
    /// The base offset the next batch must have; nil when any will do.
    private var expectedOffset: Int64?
    private var buffer: [UInt8] = []
    /// File position of `buffer[0]`.
    private var bufferPosition: Int64
    /// Bytes of `buffer` read from the file.
    private var filled = 0
    /// Where the next batch starts in `buffer`.
    private var cursor = 0
    /// The last read came back shorter than asked: the file ends before `endPosition`.
    private var readWasShort = false
    /// `buffer` was handed out as an array: the next chunk needs a buffer of its own.
    private var bufferIsShared = false
    /// Counts the buffers filled, so a stale ``Batch`` is caught.
    private var generation = 0

    /// Why the walk ended; nil while it goes on.
    package private(set) var stop: Stop?
    /// The batches the `.skip` policy passed over, in file order.
    package private(set) var skipped: [Skipped] = []

    /// A reader of `file` from byte `start` up to `endPosition`. With `buffers`, chunks are read
    /// into a partition reader's reused memory (see ``ReadBuffers``). `requiresReadableCodec`
    /// makes a codec other than none and zstd a failed check, as it is for readers of records.
    package init(
        file: File, from start: Int64 = 0, to endPosition: Int64, chunkBytes: Int = LogReader.chunkBytes,
        offsets: OffsetCheck = .unchecked, policy: CorruptionPolicy = .stop, requiresReadableCodec: Bool = false,
        buffers: ReadBuffers? = nil
    ) {
        self.file = file
        self.endPosition = endPosition
        self.chunkBytes = max(chunkBytes, BatchHeader.size)
        self.policy = policy
        self.requiresReadableCodec = requiresReadableCodec
        self.buffers = buffers
        bufferPosition = start
        switch offsets {
        case .unchecked: (checksOffsets, expectedOffset) = (false, nil)
        case .dense(let first): (checksOffsets, expectedOffset) = (true, first)
        }
    }

    /// Byte position of the next batch: the end of the last one handed out or passed over.
    package var position: Int64 { bufferPosition + Int64(cursor) }

    /// The next batch, or nil once the walk has ended (``stop`` says why).
    package mutating func next() throws(StreamStoreError) -> Batch? {
        while stop == nil {
            guard position < endPosition else {
                stop = .end
                return nil
            }
            let probe = buffer.withUnsafeBytes { BatchHeader.probe(UnsafeRawBufferPointer(rebasing: $0[0..<filled]), at: cursor) }
            switch probe {
            case .valid(let header):
                if let batch = accept(header) { return batch }
            case .incomplete(let available):
                let needed = neededBytes(available: available)
                guard position + Int64(needed) <= readLimit else {
                    stopHere()
                    return nil
                }
                try fetch(neededBytes: needed)
            case .corrupt(let reason):
                if let batch = try frameDamaged(reason: reason) { return batch }
            }
        }
        return nil
    }

    /// Calls `body` with each batch the walk hands out, and returns why it ended.
    package mutating func forEach(_ body: (Batch) throws(StreamStoreError) -> Void) throws(StreamStoreError) -> Stop {
        while let batch = try next() { try body(batch) }
        return stop ?? .end
    }

    /// Ends the walk after the batches handed out so far.
    package mutating func stopHere() {
        if stop == nil { stop = .stopped(position: position) }
    }

    /// The batch's bytes, header included, for the duration of `body`.
    package func withBytes<Result>(of batch: Batch, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        precondition(batch.generation == generation, "a LogReader.Batch is valid only until the next call of next()")
        return buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[batch.start..<(batch.start + batch.header.totalBytes)])) }
    }

    /// The batch as a ``StoredBatch`` that shares the reader's buffer (nothing is copied or
    /// decompressed).
    package mutating func storedBatch(_ batch: Batch) -> StoredBatch {
        let (bytes, start) = sharedBytes(of: batch)
        return StoredBatch(bytes: bytes, records: (start + BatchHeader.size)..<(start + batch.header.totalBytes), header: batch.header)
    }

    /// The buffer that holds the batch, and where the batch starts in it.
    package mutating func sharedBytes(of batch: Batch) -> (bytes: [UInt8], start: Int) {
        precondition(batch.generation == generation, "a LogReader.Batch is valid only until the next call of next()")
        bufferIsShared = true
        return (buffer, batch.start)
    }

    // MARK: Checks

    /// A batch whose bytes passed their checks: the offset and codec checks the caller asked for
    /// decide whether it is handed out.
    private mutating func accept(_ header: BatchHeader) -> Batch? {
        let gap = expectedOffset.flatMap { $0 == header.baseOffset ? nil : $0 }
        let codec = requiresReadableCodec ? header.unreadableCodecReason : nil
        if policy == .stop, let reason = gap.map({ "base offset \(header.baseOffset), expected \($0)" }) ?? codec {
            stop = .corrupt(position: position, reason: reason)
            return nil
        }
        return hand(header, damage: codec, gap: gap, computedCRC: header.crc)
    }

    /// A batch at the cursor that failed a check: framed by its length and magic when the policy
    /// goes on past damage, else the end of the walk.
    private mutating func frameDamaged(reason: String) throws(StreamStoreError) -> Batch? {
        let framedBytes: Int? = buffer.withUnsafeBytes { raw in
            guard policy != .stop, let base = raw.baseAddress, filled - cursor >= BatchHeader.lengthPrefixSize else { return nil }
            let length = BigEndian.load(Int32.self, base + cursor, BatchHeader.Field.batchLength)
            let total = Int(length) + BatchHeader.lengthPrefixSize
            guard length >= Int32(BatchHeader.size - BatchHeader.lengthPrefixSize), total <= Limits.maxBatchBytes else { return nil }
            return total
        }
        guard let total = framedBytes, position + Int64(total) <= endPosition else {
            stop = .corrupt(position: position, reason: reason)
            return nil
        }
        if filled - cursor < total {
            // Read the whole damaged batch, then look at it again.
            guard cursor > 0 || !readWasShort else {
                stop = .corrupt(position: position, reason: reason)
                return nil
            }
            try refill(count: Int(min(Int64(max(chunkBytes, total)), endPosition - position)))
            return nil
        }
        let (header, computed) = buffer.withUnsafeBytes { raw -> (BatchHeader?, UInt32) in
            guard let base = raw.baseAddress else { return (nil, 0) }
            let start = base + cursor
            let covered = UnsafeRawBufferPointer(start: start + BatchHeader.Field.attributes, count: total - BatchHeader.Field.attributes)
            return (BatchHeader(loadingFrom: start), CRC32C.checksum(covered))
        }
        guard let header, header.magic == BatchHeader.magicValue else {
            stop = .corrupt(position: position, reason: reason)
            return nil
        }
        let gap = expectedOffset.flatMap { $0 == header.baseOffset ? nil : $0 }
        return hand(header, damage: reason, gap: gap, computedCRC: computed)
    }

    /// Moves past a framed batch, handing it out unless the policy skips damaged ones.
    private mutating func hand(_ header: BatchHeader, damage: String?, gap: Int64?, computedCRC: UInt32) -> Batch? {
        let batch = Batch(
            header: header, position: position, damage: damage, expectedBaseOffset: gap, computedCRC: computedCRC,
            start: cursor, generation: generation)
        cursor += header.totalBytes
        if checksOffsets {
            // The CRC does not cover the base offset: a damaged batch's offsets may make no sense,
            // and then the next batch starts the chain again.
            let sane = header.lastOffsetDelta >= 0 && header.baseOffset >= 0 && header.baseOffset < Int64.max - Int64(header.lastOffsetDelta)
            expectedOffset = sane ? header.nextOffset : nil
        }
        guard batch.isSound || policy != .skip else {
            let reason = damage ?? gap.map { "base offset \(header.baseOffset), expected \($0)" } ?? ""
            skipped.append(Skipped(position: batch.position, reason: reason))
            return nil
        }
        return batch
    }

    // MARK: Reading

    /// All the bytes the batch at the cursor needs, as far as its first bytes tell.
    private func neededBytes(available: Int) -> Int {
        guard available >= BatchHeader.lengthPrefixSize else { return BatchHeader.lengthPrefixSize }
        // The probe checked the length before it found the batch incomplete.
        return buffer.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return BatchHeader.lengthPrefixSize }
            return Int(BigEndian.load(Int32.self, base + cursor, BatchHeader.Field.batchLength)) + BatchHeader.lengthPrefixSize
        }
    }

    /// The buffer ends inside the batch at the cursor: reads on from it (growing the buffer to
    /// the whole batch when it is larger than a chunk), or ends the walk when the file does.
    private mutating func fetch(neededBytes: Int) throws(StreamStoreError) {
        // The last read started at this batch and the file ended before its end.
        let fileEndsInside = cursor == 0 && generation > 0 && readWasShort
        if position + Int64(neededBytes) > endPosition || fileEndsInside {
            let present = fileEndsInside ? Int64(filled) : endPosition - position
            stop = .torn(position: position, neededBytes: neededBytes, availableBytes: present)
            return
        }
        try refill(count: Int(min(Int64(max(chunkBytes, neededBytes)), min(endPosition, readLimit) - position)))
    }

    /// Reads `count` bytes from the cursor's position into the start of a buffer. Never past
    /// `endPosition`: a batch that runs past it must not be read as whole.
    private mutating func refill(count: Int) throws(StreamStoreError) {
        let at = position
        let file = self.file
        if let buffers {
            // Dropped first: the reader's own reference would make the fill copy the array.
            buffer = []
            (buffer, filled) = try buffers.fillRaw(count: count) { (raw) throws(StreamStoreError) -> Int in try file.read(into: raw, at: at) }
        } else {
            if bufferIsShared || buffer.count < count {
                // Uninitialized: every byte looked at is read from the file first.
                buffer = [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
            }
            filled = try withMutableBytes(&buffer) { (raw) throws(StreamStoreError) -> Int in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]), at: at)
            }
        }
        bufferPosition = at
        cursor = 0
        readWasShort = filled < count
        bufferIsShared = false
        generation += 1
    }
}

extension LogReader.Stop {
    /// What the stop means, as a sentence for reports and logs.
    package var sentence: String {
        switch self {
        case .end: return "the log scanned cleanly to its end"
        case .corrupt(let position, let reason): return "invalid batch at byte \(position): \(reason)"
        case .torn(let position, let needed, let available):
            return "torn batch at byte \(position): \(available) of its \(needed) bytes are present"
        case .stopped(let position): return "the scan was stopped at byte \(position)"
        }
    }
}
