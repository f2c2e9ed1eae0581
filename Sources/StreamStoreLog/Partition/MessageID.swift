import StreamStoreFormat
/// A `message-id` as the de-duplication window keys it (with a redrive count when the record
/// was redriven: ``Topic/dedupeKey(messageID:redriveCount:)``): its bytes, hashed once.
///
/// Keying a dictionary by `[UInt8]` hashes every byte through `Hasher` on each look-up, insert
/// and, worse, on each neighbour a removal moves (Swift's dictionaries shift entries back on
/// delete), which made those hashes most of a de-duplicated append. The hash here is the seeded
/// `Hasher` over the bytes, so ids crafted to collide cannot flood the table; equality still
/// compares the bytes.
package struct MessageID: Hashable, Sendable {
    let bytes: [UInt8]
    private let hash: Int

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        hash = hasher.finalize()
    }

    package static func == (left: MessageID, right: MessageID) -> Bool {
        left.hash == right.hash && left.bytes == right.bytes
    }

    package func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
