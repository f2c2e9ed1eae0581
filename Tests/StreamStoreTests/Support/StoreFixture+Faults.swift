import Foundation
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

extension StoreFixture {
    /// Opens the store with every file operation going through `fileSystem`.
    @discardableResult
    func open(through fileSystem: any FileSystem) throws -> Store {
        var options = Store.Options(clock: clock)
        options.fileSystem = fileSystem
        let opened = try Store.open(at: path, options: options)
        store = opened
        return opened
    }

    /// Drops the store without closing it, as a crash would, and waits until its files are
    /// closed: in-process, a queued fsync may hold one for a moment, and must not write behind
    /// the next opener's back.
    func crash(through fileSystem: FaultyFileSystem, sourceLocation: SourceLocation = #_sourceLocation) {
        store = nil
        #expect(fileSystem.waitUntilClosed(), "the dropped store still holds files: \(fileSystem.openPaths)", sourceLocation: sourceLocation)
    }
}
