import CZstd

/// A reusable zstd compression context and output buffer: one per partition writer, so
/// appending a batch allocates nothing once the buffer has grown to the batch size.
/// Not thread-safe: its owner serialises calls.
package final class ZstdCompressor {
    private let context: OpaquePointer
    private var output: UnsafeMutableRawPointer
    private var capacity: Int
    let level: Int

    package init(level: Int) {
        // ZSTD_createCCtx fails only when memory is exhausted, which nothing here can handle.
        guard let context = ZSTD_createCCtx() else { preconditionFailure("ZSTD_createCCtx failed: out of memory") }
        self.context = context
        self.level = level
        capacity = 0
        output = .allocate(byteCount: 1, alignment: 16)
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level))
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 0)
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    /// Compresses `input` as one frame (with its content size); the result is valid until the
    /// next call.
    package func compress(_ input: UnsafeRawBufferPointer) throws(StreamStoreError) -> UnsafeRawBufferPointer {
        let bound = ZSTD_compressBound(input.count)
        if bound > capacity {
            output.deallocate()
            capacity = max(bound, capacity * 2)
            output = .allocate(byteCount: capacity, alignment: 16)
        }
        let written = ZSTD_compress2(context, output, capacity, input.baseAddress, input.count)
        if ZSTD_isError(written) != 0 {
            throw StreamStoreError(.compressionFailed, "zstd could not compress a batch: \(String(cString: ZSTD_getErrorName(written))).")
        }
        return UnsafeRawBufferPointer(start: output, count: written)
    }
}

/// A reusable zstd decompression context. Decompressed sizes are bounded by
/// ``Limits/maxBatchBytes`` whatever a frame claims, so a corrupt or hostile frame can never make
/// a reader allocate more. Not thread-safe: its owner serialises calls.
package final class ZstdDecompressor {
    private let context: OpaquePointer

    package init() {
        guard let context = ZSTD_createDCtx() else { preconditionFailure("ZSTD_createDCtx failed: out of memory") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    package enum Failure: Error, Equatable {
        case tooLarge
        case truncated
        case malformed(String)
    }

    /// The decompressed bytes of the frame(s) in `input`, at most `limitBytes` of them.
    package func decompress(_ input: UnsafeRawBufferPointer, limitBytes: Int) -> Result<[UInt8], Failure> {
        guard let source = input.baseAddress, input.count > 0 else { return .failure(.truncated) }
        ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        let declared = ZSTD_getFrameContentSize(source, input.count)
        if declared == ZSTD_CONTENTSIZE_ERROR { return .failure(.malformed("not a zstd frame")) }
        if declared != ZSTD_CONTENTSIZE_UNKNOWN {
            guard declared <= UInt64(limitBytes) else { return .failure(.tooLarge) }
            return decompressKnownSize(source, input.count, size: Int(declared))
        }
        // No declared size (some Kafka producers stream their frames): decompress in steps,
        // growing the output up to the limit.
        let capacity = 64 * 1024
        var output = [UInt8](repeating: 0, count: min(capacity, limitBytes + 1))
        var produced = 0
        var inBuffer = ZSTD_inBuffer(src: source, size: input.count, pos: 0)
        while true {
            let (remaining, position): (Int, Int) = output.withUnsafeMutableBytes { raw in
                let free = UnsafeMutableRawBufferPointer(rebasing: raw[produced...])
                var outBuffer = ZSTD_outBuffer(dst: free.baseAddress, size: free.count, pos: 0)
                let remaining = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                return (remaining, outBuffer.pos)
            }
            produced += position
            if ZSTD_isError(remaining) != 0 {
                return .failure(.malformed(String(cString: ZSTD_getErrorName(remaining))))
            }
            if produced > limitBytes { return .failure(.tooLarge) }
            if remaining == 0 && inBuffer.pos == inBuffer.size {
                output.removeLast(output.count - produced)
                return .success(output)
            }
            if inBuffer.pos == inBuffer.size && produced < output.count {
                // All input consumed, output not full, frame not finished: the frame is cut short.
                return .failure(.truncated)
            }
            if produced == output.count {
                guard output.count <= limitBytes else { return .failure(.tooLarge) }
                output.append(contentsOf: repeatElement(0, count: min(output.count, limitBytes + 1 - output.count)))
            }
        }
    }

    /// One-shot decompression into a buffer of exactly the declared size: the fast path, since
    /// our writer (and most producers) record the content size in the frame header.
    private func decompressKnownSize(_ source: UnsafeRawPointer, _ count: Int, size: Int) -> Result<[UInt8], Failure> {
        var failure: Failure?
        // One spare byte, so a frame holding more than it declared is caught rather than cut.
        let output = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, initialized in
            switch decompress(source, count, into: UnsafeMutableRawBufferPointer(buffer), declaredSize: size) {
            case .success(let written): initialized = written
            case .failure(let reason):
                failure = reason
                initialized = 0
            }
        }
        if let failure { return .failure(failure) }
        return .success(output)
    }

    /// Decompresses a frame that declares its content size into `output`, which must hold at
    /// least that size plus one spare byte (so a frame holding more than it declares is caught,
    /// not cut). Returns the bytes written. The caller owns `output`: this is how readers
    /// decompress into buffers they reuse.
    package func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, declaredSize size: Int) -> Result<Int, Failure> {
        guard let source = input.baseAddress, input.count > 0 else { return .failure(.truncated) }
        return decompress(source, input.count, into: output, declaredSize: size)
    }

    private func decompress(_ source: UnsafeRawPointer, _ count: Int, into output: UnsafeMutableRawBufferPointer, declaredSize size: Int) -> Result<Int, Failure> {
        precondition(output.count > size, "the output needs a spare byte past the declared size")
        ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        let result = ZSTD_decompressDCtx(context, output.baseAddress, size + 1, source, count)
        if ZSTD_isError(result) != 0 {
            let code = ZSTD_getErrorCode(result)
            return .failure(code == ZSTD_error_srcSize_wrong ? .truncated : .malformed(String(cString: ZSTD_getErrorName(result))))
        }
        guard result == size else { return .failure(.malformed("the frame holds \(result) bytes but declares \(size)")) }
        return .success(result)
    }
}

/// Facts read from a zstd frame header without decompressing.
package enum ZstdFrame {
    /// The content size the frame header declares, or nil when it declares none or is not one.
    package static func contentSize(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        let size = ZSTD_getFrameContentSize(base, bytes.count)
        guard size != ZSTD_CONTENTSIZE_UNKNOWN, size != ZSTD_CONTENTSIZE_ERROR, size <= UInt64(Int64.max) else { return nil }
        return Int64(size)
    }
}
