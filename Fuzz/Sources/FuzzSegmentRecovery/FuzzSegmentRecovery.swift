import StreamStore
import StreamStoreFuzzEntryPoints
import FuzzSupport

// libFuzzer target: recovery of a partition's active segment after an unclean shutdown
// (docs/FORMAT.md section 9), then reads, an append and a clean reopen.
//
// Input: one flags byte (see RecoveryLayout), 8 bytes for the appended record's timestamp, then
// the bytes of the active `.log`. Before each input the store is put back to a fixed state
// without its clean-shutdown marker, the input is written as the active segment, and the store
// is opened, so recovery runs over it.
//
// Invariants: open never fails; recovery keeps exactly the valid batches an independent reading
// of the format finds (LogWalker) and cuts the rest; what is left on disk is whole batches with
// valid CRCs and dense offsets; reading from the log start returns batches with dense offsets up
// to the log end (a batch whose records or zstd frame are damaged, which the CRC cannot tell, may
// only fail with `.corruptBatch`); an append lands at the old log end and reads back; a clean
// close and reopen needs no recovery and finds the same log.

nonisolated(unsafe) private let fixture = RecoveryFixture()

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    SeedCorpus.writeIfRequested { RecoverySeeds.make(fixture) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSegmentRecovery(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    let layout = RecoveryLayout(flags: input.byte())
    let timestampBits = input.uint64()
    var tail = input.rest()
    fixture.run(layout: layout, appendTimestampBits: timestampBits, tail: &tail)
    return 0
}
