import StreamStore

/// What the schema check learns of one event type at one version while it scans: every field
/// path seen, its JSON types and presence, with examples; and, per partition, where a field
/// stopped or started appearing (a change inside the version).
///
/// Paths: `customer` is a member of the event's object, `customer.name` a member of that, and
/// `items[]` the elements of the array `items` (`items[].sku` a member of its objects).
final class VersionShape {
    let eventType: String
    let eventTypeBytes: [UInt8]
    /// The version, or nil for records whose `schema-version` header is not a version number.
    let version: Int?
    /// Records of this type and version.
    var records = 0
    /// Those whose value is a JSON object (the others are ``notJSON``).
    var objectRecords = 0
    var notJSON = 0
    var firstNotJSON: EventLocation?
    /// Records whose `content-type` says they are not JSON: counted, not inspected.
    var opaque = 0
    var earliest: EventLocation?
    var latest: EventLocation?
    var fields: [FieldStats] = []
    /// Fields past ``Limits/maxShapeFieldsPerVersion``, seen but not tracked.
    var untrackedFieldSightings = 0
    /// Field lookup by a hash of (parent, name); a hash taken by another field falls back to a scan.
    private var lookup: [UInt64: Int32] = [:]
    /// Changes found inside this version, by what changed (one example each).
    var insideChanges: [String: SchemaChange] = [:]
    /// Records of this shape in the partition being scanned (its per-partition ordinal).
    var partitionRecords = 0

    init(eventType: String, eventTypeBytes: [UInt8], version: Int?) {
        self.eventType = eventType
        self.eventTypeBytes = eventTypeBytes
        self.version = version
    }

    /// The field `name` (key bytes) under `parent` (-1: the event's object), made on first
    /// sight; nil past the field limit or the depth limit.
    func field(parent: Int32, name: UnsafeRawBufferPointer, hash: UInt64) -> Int32? {
        if let index = lookup[hash], fields[Int(index)].matches(parent: parent, name: name) { return index }
        if lookup[hash] != nil, let index = fields.firstIndex(where: { $0.matches(parent: parent, name: name) }) { return Int32(index) }
        let depth = parent < 0 ? 1 : fields[Int(parent)].depth + 1
        guard depth <= Limits.maxShapeDepth else { return nil }
        guard fields.count < Limits.maxShapeFieldsPerVersion else {
            untrackedFieldSightings += 1
            return nil
        }
        let nameBytes = Array(name)
        let nameText = String(decoding: nameBytes, as: UTF8.self)
        let path: String
        if parent < 0 {
            path = nameText
        } else {
            path = fields[Int(parent)].path + (nameText == "[]" ? "" : ".") + nameText
        }
        let isUnderArray = nameText == "[]" || (parent >= 0 && fields[Int(parent)].isUnderArray)
        let index = Int32(fields.count)
        var stats = FieldStats(name: nameBytes, parent: parent, path: path, depth: depth, isUnderArray: isUnderArray)
        // A field first seen after records of this version in this partition did without it.
        stats.pattern = partitionRecords > 0 ? .absentRun : .start
        fields.append(stats)
        if lookup[hash] == nil { lookup[hash] = index }
        return index
    }

    /// Notes the record's time, keeping the earliest and the latest.
    func noteRecord(at location: EventLocation) {
        records += 1
        guard let time = location.timestampMilliseconds else {
            if earliest == nil { earliest = location }
            latest = location
            return
        }
        if (earliest?.timestampMilliseconds).map({ time < $0 }) ?? true { earliest = location }
        if (latest?.timestampMilliseconds).map({ time >= $0 }) ?? true { latest = location }
    }

    /// Starts a partition: every field's pattern begins again.
    func startPartition() {
        partitionRecords = 0
        for index in fields.indices { fields[index].pattern = .start }
    }

    /// Ends a partition: a field that stopped appearing is a removal inside the version, or a
    /// rename when another field under the same parent started appearing at the same record.
    func endPartition() {
        var removals: [Int] = []
        var appearances: [Int] = []
        for (index, field) in fields.enumerated() where !field.isUnderArray {
            switch field.pattern {
            case .absentAfterPresent: removals.append(index)
            case .appeared: appearances.append(index)
            default: break
            }
        }
        var paired = Set<Int>()
        for removed in removals {
            let old = fields[removed]
            let rename = appearances.first { candidate in
                let new = fields[candidate]
                return !paired.contains(candidate) && new.parent == old.parent && new.switchOrdinal == old.switchOrdinal
                    && new.types.families == old.types.families
            }
            if let rename {
                paired.insert(rename)
                let new = fields[rename]
                noteInside(
                    .renamedInside(
                        path: old.path, newPath: new.path, types: old.types, lastSeen: old.last, from: new.switchLocation, version: version, eventType: eventType))
            } else if !hasRemovedAncestor(old, among: removals) {
                noteInside(.removedInside(path: old.path, lastSeen: old.last, missingFrom: old.switchLocation, version: version, eventType: eventType))
            }
        }
        startPartition()
    }

    private func hasRemovedAncestor(_ field: FieldStats, among removals: [Int]) -> Bool {
        var parent = field.parent
        while parent >= 0 {
            if removals.contains(Int(parent)) { return true }
            parent = fields[Int(parent)].parent
        }
        return false
    }

    private func noteInside(_ change: SchemaChange) {
        if insideChanges[change.identity] == nil { insideChanges[change.identity] = change }
    }
}

/// One field path of a ``VersionShape``.
struct FieldStats {
    let name: [UInt8]
    let parent: Int32
    let path: String
    let depth: Int
    /// Inside an array's elements: presence per record means little there, so such fields take
    /// no part in the per-partition patterns.
    let isUnderArray: Bool

    var types: JSONTypes = []
    /// Times the key was present (null values included).
    var present = 0
    var nulls = 0
    /// Times the value was an object: how often its member fields could have been present.
    var objects = 0
    var firstByType: [EventLocation?] = Array(repeating: nil, count: JSONTypes.all.count)
    var first: EventLocation?
    var last: EventLocation?
    /// The first record whose parent object lacked this field or held null in it.
    var firstMissing: EventLocation?

    /// The record (a scan-wide stamp) in which the field was last present, or held an object, or null.
    var seenStamp = -1
    var objectStamp = -1
    var nullStamp = -1

    // The field's pattern in the partition being scanned.
    var pattern: PresencePattern = .start
    /// The partition ordinal of the record where the pattern last switched (removal or appearance).
    var switchOrdinal = -1
    var switchLocation: EventLocation?

    init(name: [UInt8], parent: Int32, path: String, depth: Int, isUnderArray: Bool) {
        self.name = name
        self.parent = parent
        self.path = path
        self.depth = depth
        self.isUnderArray = isUnderArray
    }

    func matches(parent: Int32, name: UnsafeRawBufferPointer) -> Bool {
        self.parent == parent && self.name.count == name.count && self.name.withUnsafeBytes { $0.elementsEqual(name) }
    }

    /// Moves the pattern on by one record in which the field's parent was present.
    mutating func advance(present: Bool, ordinal: Int, location: EventLocation) {
        switch (pattern, present) {
        case (.start, true): pattern = .presentRun
        case (.start, false): pattern = .absentRun
        case (.presentRun, false):
            pattern = .absentAfterPresent
            switchOrdinal = ordinal
            switchLocation = location
        case (.absentRun, true):
            pattern = .appeared
            switchOrdinal = ordinal
            switchLocation = location
        case (.absentAfterPresent, true), (.appeared, false): pattern = .mixed
        default: break
        }
    }
}

/// A field's presence over the records of one version in one partition, in offset order.
enum PresencePattern {
    case start
    /// Present in every record so far.
    case presentRun
    /// Absent from every record so far.
    case absentRun
    /// Present in every record up to one, absent from every record since: removed.
    case absentAfterPresent
    /// Absent from every record up to one, present in every record since: added.
    case appeared
    /// Anything else: an optional field.
    case mixed
}
