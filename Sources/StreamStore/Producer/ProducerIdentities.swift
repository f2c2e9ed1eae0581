import Foundation
import StreamStoreFormat
import StreamStoreLog

/// An idempotent producer's identity in the store: the id its batches carry and the epoch of
/// this instance. Partitions refuse a batch of an older epoch (`.producerFenced`).
package struct ProducerIdentity: Sendable, Equatable {
    package var producerId: Int64
    package var epoch: Int16
}

/// Hands out idempotent producers' ids and epochs, never the same id twice across restarts,
/// and persists them in `<store>/__producers.json` (docs/FORMAT.md, "Producer ids").
///
/// - An anonymous producer (a ``Producer`` without a name, a Kafka client's InitProducerId)
///   gets a fresh id at epoch 0. Ids are reserved in blocks of ``blockSize``, so a start costs a
///   file write once per block; a crash loses at most the rest of a block, never reuses an id.
/// - A named producer (Kafka's `transactional.id` idea: one logical writer, such as
///   "order-service") keeps its id, and each registration bumps its epoch, so the instance
///   registered last fences every older one. The file is written at every registration.
///   An epoch at `Int16.max` moves the name to a fresh id at epoch 0, as Kafka does.
package final class ProducerIdentities: Sendable {
    static let blockSize: Int64 = 1000

    struct Manifest: Codable, Equatable {
        var formatVersion: Int
        /// The first id not yet reserved: every id below it may have been handed out.
        var nextProducerId: Int64
        var named: [String: Named]

        struct Named: Codable, Equatable {
            var producerId: Int64
            var epoch: Int16
        }
    }

    private struct State {
        var manifest: Manifest
        /// The next anonymous id; ids from here to `manifest.nextProducerId` are reserved.
        var next: Int64
    }

    private let state: Locked<State>
    private let path: String
    private let folder: String
    private let directory: Directory

    /// Reads the store's file (or starts one), taking the Kafka server's old file as a lower bound.
    package init(storePath: String, fileSystem: FileSystem) throws(StreamStoreError) {
        folder = storePath
        path = FileNames.join(storePath, FileNames.producerIds)
        directory = Directory(fileSystem: fileSystem)
        var manifest = Manifest(formatVersion: 1, nextProducerId: 1, named: [:])
        if let bytes = try directory.readWhole(path, limitBytes: Limits.maxProducerIdsFileBytes) {
            manifest = try JSONFiles.decode(Manifest.self, from: bytes, path: path)
        }
        let legacyPath = FileNames.join(storePath, FileNames.legacyKafkaProducerIds)
        if let legacy = try directory.readWhole(legacyPath, limitBytes: Limits.maxProducerIdFileBytes),
            let next = Int64(String(decoding: legacy.filter { (0x30...0x39).contains($0) }, as: UTF8.self))
        {
            manifest.nextProducerId = max(manifest.nextProducerId, next)
        }
        let next = max(manifest.nextProducerId, 1)
        state = Locked(State(manifest: manifest, next: next))
    }

    /// A fresh id at epoch 0, or the named producer's id at its next epoch.
    package func register(name: String?) throws(StreamStoreError) -> ProducerIdentity {
        try state.withLock { (state) throws(StreamStoreError) -> ProducerIdentity in
            var manifest = state.manifest
            var next = state.next
            let identity: ProducerIdentity
            if let name {
                if let known = manifest.named[name], known.epoch < Int16.max {
                    identity = ProducerIdentity(producerId: known.producerId, epoch: known.epoch + 1)
                } else {
                    identity = ProducerIdentity(producerId: Self.take(&next, manifest: &manifest), epoch: 0)
                }
                manifest.named[name] = .init(producerId: identity.producerId, epoch: identity.epoch)
            } else {
                identity = ProducerIdentity(producerId: Self.take(&next, manifest: &manifest), epoch: 0)
            }
            if manifest != state.manifest {
                try directory.writeAtomically(try JSONFiles.encode(manifest), to: path, folder: folder)
            }
            state.manifest = manifest
            state.next = next
            return identity
        }
    }

    /// The next id, reserving another block first when the reserved ones are used up.
    private static func take(_ next: inout Int64, manifest: inout Manifest) -> Int64 {
        if next >= manifest.nextProducerId { manifest.nextProducerId = next + blockSize }
        defer { next += 1 }
        return next
    }
}
