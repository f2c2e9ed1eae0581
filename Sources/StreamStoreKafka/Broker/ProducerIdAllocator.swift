import StreamStore
import StreamStoreFormat
import StreamStoreLog

/// Hands out idempotent producers' ids, never the same one twice, across restarts: the next
/// free id is kept in `<store>/__kafka/producer-ids`, reserved in blocks so that a producer's
/// start costs a file write only once per ``blockSize`` producers. A crash loses at most the
/// rest of a block, never reuses an id.
final class ProducerIdAllocator: Sendable {
    static let blockSize: Int64 = 1000
    static let folderName = "__kafka"
    static let fileName = "producer-ids"

    private struct State {
        var next: Int64
        var reservedEnd: Int64
    }

    private let state: Locked<State>
    private let folder: String
    private let directory = Directory(fileSystem: PosixFileSystem.shared)

    init(storePath: String) throws(StreamStoreError) {
        folder = FileNames.join(storePath, ProducerIdAllocator.folderName)
        try directory.create(folder)
        let stored = try directory.readWhole(FileNames.join(folder, ProducerIdAllocator.fileName), limitBytes: Limits.maxProducerIdFileBytes)
        let next = stored.flatMap { bytes in Int64(String(decoding: bytes.filter { (0x30...0x39).contains($0) }, as: UTF8.self)) } ?? 1
        state = Locked(State(next: max(next, 1), reservedEnd: max(next, 1)))
    }

    /// A fresh producer id.
    func allocate() throws(StreamStoreError) -> Int64 {
        try state.withLock { (state) throws(StreamStoreError) -> Int64 in
            if state.next >= state.reservedEnd {
                let end = state.next + ProducerIdAllocator.blockSize
                try directory.writeAtomically(Array("\(end)\n".utf8), to: FileNames.join(folder, ProducerIdAllocator.fileName), folder: folder)
                state.reservedEnd = end
            }
            defer { state.next += 1 }
            return state.next
        }
    }
}
