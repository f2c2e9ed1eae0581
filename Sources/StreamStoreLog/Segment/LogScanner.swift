import StreamStoreFormat
/// Reads a `.log` file batch by batch from a position, in large chunks, checking each batch
/// (length, magic, CRC32C, dense offsets). Recovery, index rebuilds, `verify` and `dump` all
/// walk logs through it.
package struct LogScanner {
    /// Bytes read per system call: large enough that a scan runs at disk speed.
    package static let chunkBytes = 4 * 1024 * 1024

    package enum Stop: Equatable {
        /// Reached `endPosition` exactly on a batch boundary.
        case end
        /// The bytes at `position` are not a valid batch.
        case corrupt(position: Int64, reason: String)
        /// The file ends inside a batch at `position` (a torn write).
        case torn(position: Int64, neededBytes: Int, availableBytes: Int64)
        /// The caller asked to stop; `position` is the end of the last batch it was given.
        case stopped(position: Int64)
    }

    let file: File
    let endPosition: Int64

    package init(file: File, endPosition: Int64) {
        self.file = file
        self.endPosition = endPosition
    }

    /// Calls `body(header, position)` for each valid batch from `position` on, until the end or
    /// the first batch that fails a check, and says why it stopped. `expectedBaseOffset` is the
    /// base offset the first batch must have (offsets are dense), or nil to accept any.
    package func scan(
        from start: Int64, expectedBaseOffset: Int64?,
        _ body: (BatchHeader, Int64) throws(StreamStoreError) -> Void
    ) throws(StreamStoreError) -> Stop {
        try scanBatches(from: start, expectedBaseOffset: expectedBaseOffset) { (header, position, _) throws(StreamStoreError) in
            try body(header, position)
            return true
        }
    }

    /// Like ``scan(from:expectedBaseOffset:_:)``, and `body` also gets the batch's bytes (valid
    /// only during the call) and returns false to stop after it.
    func scanBatches(
        from start: Int64, expectedBaseOffset: Int64?,
        _ body: (BatchHeader, Int64, UnsafeRawBufferPointer) throws(StreamStoreError) -> Bool
    ) throws(StreamStoreError) -> Stop {
        var chunkStart = start
        var expected = expectedBaseOffset
        var buffer = [UInt8](repeating: 0, count: Int(min(Int64(LogScanner.chunkBytes), max(0, endPosition - start))))
        while chunkStart < endPosition {
            let want = Int(min(Int64(buffer.count), endPosition - chunkStart))
            let got = try withMutableBytes(&buffer) { (raw) throws(StreamStoreError) in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]), at: chunkStart)
            }
            var position = 0
            var stop: Stop?
            var needed = 0
            try withBytes(buffer) { (raw) throws(StreamStoreError) in
                let view = UnsafeRawBufferPointer(rebasing: raw[0..<got])
                while position < got {
                    switch BatchHeader.probe(view, at: position, expectedBaseOffset: expected) {
                    case .valid(let header):
                        let batch = UnsafeRawBufferPointer(rebasing: view[position..<(position + header.totalBytes)])
                        let goOn = try body(header, chunkStart + Int64(position), batch)
                        position += header.totalBytes
                        if expected != nil { expected = header.nextOffset }
                        if !goOn {
                            stop = .stopped(position: chunkStart + Int64(position))
                            return
                        }
                    case .incomplete(let available):
                        needed = available >= BatchHeader.lengthPrefixSize
                            ? Int(BigEndian.load(Int32.self, view.baseAddress! + position, BatchHeader.Field.batchLength))
                                + BatchHeader.lengthPrefixSize
                            : BatchHeader.lengthPrefixSize
                        return
                    case .corrupt(let reason):
                        stop = .corrupt(position: chunkStart + Int64(position), reason: reason)
                        return
                    }
                }
            }
            if let stop { return stop }
            let batchStart = chunkStart + Int64(position)
            if position == 0 {
                // Not one whole batch in this chunk: either the file ends inside it (torn), or
                // it is larger than the buffer and is read whole next time round.
                if got < want || needed <= got || batchStart + Int64(needed) > endPosition {
                    return .torn(position: batchStart, neededBytes: needed, availableBytes: endPosition - batchStart)
                }
                buffer = [UInt8](repeating: 0, count: needed)
            }
            chunkStart = batchStart
        }
        return .end
    }
}

extension LogScanner.Stop {
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
