/// What one input of the index target does, from its flags byte.
///
/// ```
/// bits 0-1  which segment's indexes are replaced (modulo the segment count; the last is active)
/// bit 2     replace its offset index with the input's bytes (else keep the real one)
/// bit 3     replace its time index with the input's bytes
/// bit 4     delete the chosen index files instead
/// bit 5     keep at most one sealed segment's files open, so segments are opened (and their
///           indexes validated) again and again while reading
/// ```
struct IndexLayout {
    var segment: Int
    var replaceOffsetIndex: Bool
    var replaceTimeIndex: Bool
    var deleteFiles: Bool
    var churnOpenFiles: Bool

    init(flags: UInt8) {
        segment = Int(flags & 0x03)
        replaceOffsetIndex = flags & 0x04 != 0
        replaceTimeIndex = flags & 0x08 != 0
        deleteFiles = flags & 0x10 != 0
        churnOpenFiles = flags & 0x20 != 0
    }

    /// The flags byte that gives this layout.
    var flags: UInt8 {
        UInt8(segment & 0x03) | (replaceOffsetIndex ? 0x04 : 0) | (replaceTimeIndex ? 0x08 : 0) | (deleteFiles ? 0x10 : 0) | (churnOpenFiles ? 0x20 : 0)
    }
}
