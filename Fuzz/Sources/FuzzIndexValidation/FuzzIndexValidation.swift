import StreamStore
import StreamStoreFuzzEntryPoints
import FuzzSupport

// libFuzzer target: validation of offset and time indexes, and every lookup that goes through
// an index (docs/FORMAT.md sections 5 and 6).
//
// Input: one flags byte (see IndexLayout), a little-endian UInt16 that splits the rest into the
// bytes of an offset index and of a time index. They are checked by the validators directly
// (with lookups over whatever they accept compared to a linear search), then written over one
// segment's index files in a real store that was closed cleanly, and the store is opened and read.
//
// Invariants: nothing traps; open succeeds and finds the same log; every read is exact,
// whatever the offset index says (an index the validators refuse is rebuilt, and readers check
// where an accepted one sends them); timestamp lookups are exact, except that a time index the
// validators accept but that lies about the log may make one answer later, never earlier.

nonisolated(unsafe) private let fixture = IndexFixture()

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    SeedCorpus.writeIfRequested { IndexSeeds.make(fixture) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIndexValidation(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    let layout = IndexLayout(flags: input.byte())
    let offsetByteCount = Int(input.uint16())
    let offsetBytes = input.take(offsetByteCount)
    let timeBytes = input.rest()
    fixture.run(layout: layout, offsetBytes: offsetBytes, timeBytes: timeBytes)
    return 0
}
