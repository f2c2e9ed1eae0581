/// `withUnsafeBytes` rethrows untyped errors; these carry a ``StreamStoreError`` through it.
@inline(__always)
package func withBytes<T>(
    _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(StreamStoreError) -> T
) throws(StreamStoreError) -> T {
    let result: Result<T, StreamStoreError> = bytes.withUnsafeBytes { buffer in
        do throws(StreamStoreError) { return .success(try body(buffer)) } catch { return .failure(error) }
    }
    return try result.get()
}

@inline(__always)
package func withMutableBytes<T>(
    _ bytes: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(StreamStoreError) -> T
) throws(StreamStoreError) -> T {
    let result: Result<T, StreamStoreError> = bytes.withUnsafeMutableBytes { buffer in
        do throws(StreamStoreError) { return .success(try body(buffer)) } catch { return .failure(error) }
    }
    return try result.get()
}
