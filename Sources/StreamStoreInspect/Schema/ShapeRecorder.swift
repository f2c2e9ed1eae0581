import StreamStore

/// The schema check's state over one scan: a ``VersionShape`` per event type and version, found
/// by the record's headers without allocating, and the JSON walk of each record into its shape.
final class ShapeRecorder {
    /// When set, records of other event types are counted but not inspected.
    let onlyEventType: [UInt8]?
    private(set) var shapes: [VersionShape] = []
    /// Shape lookup by a hash of (event type, version); see ``shape(eventType:version:)``.
    private var lookup: [UInt64: Int] = [:]
    private(set) var records = 0
    private(set) var untypedRecords = 0
    /// Records of other types than ``onlyEventType``.
    private(set) var otherTypeRecords = 0
    /// A stamp per record, so fields know whether they were seen in the current one.
    private var stamp = 0
    private var sightings: [FieldSighting] = []

    init(onlyEventType: String?) {
        self.onlyEventType = onlyEventType.map { Array($0.utf8) }
        sightings.reserveCapacity(64)
    }

    private static let eventTypeKey = HeaderName.eventType.rawValue
    private static let schemaVersionKey = HeaderName.schemaVersion.rawValue
    private static let contentTypeKey = HeaderName.contentType.rawValue

    /// Takes one record of a partition's scan.
    func observe(_ view: borrowing RecordView, partition: Int) {
        records += 1
        guard case .some(.some(let eventType)) = view.headerValue(forKey: Self.eventTypeKey) else {
            untypedRecords += 1
            return
        }
        if let onlyEventType, !onlyEventType.withUnsafeBytes({ $0.elementsEqual(eventType) }) {
            otherTypeRecords += 1
            return
        }
        let version: Int?
        switch view.headerValue(forKey: Self.schemaVersionKey) {
        case .none: version = 1
        case .some(.none): version = nil
        case .some(.some(let text)): version = SchemaVersion.parse(text)
        }
        let isOpaque: Bool
        if case .some(.some(let contentType)) = view.headerValue(forKey: Self.contentTypeKey) {
            isOpaque = !Self.mentionsJSON(contentType)
        } else {
            isOpaque = false
        }
        let shape = self.shape(eventType: eventType, version: version)
        let location = EventLocation.record(partition: partition, offset: view.offset, timestampMilliseconds: view.timestamp)
        take(view.value, isOpaque: isOpaque, shape: shape, location: location)
    }

    /// Takes one value of `shape` seen at `location` (a record, or a sample line).
    func take(_ value: UnsafeRawBufferPointer?, isOpaque: Bool, shape: VersionShape, location: EventLocation) {
        shape.noteRecord(at: location)
        if isOpaque {
            shape.opaque += 1
            return
        }
        sightings.removeAll(keepingCapacity: true)
        var parsed = false
        if let value {
            var walker = JSONShapeWalker(bytes: value, shape: shape)
            parsed = walker.walkObjectDocument(into: &sightings)
        }
        guard parsed else {
            shape.notJSON += 1
            if shape.firstNotJSON == nil { shape.firstNotJSON = location }
            return
        }
        stamp += 1
        shape.objectRecords += 1
        shape.commit(sightings, stamp: stamp, location: location)
    }

    /// The shape of (event type, version), made on first sight.
    func shape(eventType: UnsafeRawBufferPointer, version: Int?) -> VersionShape {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bitPattern: Int64(version ?? -1))
        for byte in eventType { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        if let index = lookup[hash], shapes[index].matches(eventType: eventType, version: version) { return shapes[index] }
        if let found = shapes.first(where: { $0.matches(eventType: eventType, version: version) }) { return found }
        let shape = VersionShape(eventType: String(decoding: eventType, as: UTF8.self), eventTypeBytes: Array(eventType), version: version)
        if lookup[hash] == nil { lookup[hash] = shapes.count }
        shapes.append(shape)
        return shape
    }

    /// Begins a partition (or a samples file): patterns of presence start again.
    func startPartition() {
        for shape in shapes { shape.startPartition() }
    }

    /// Ends a partition: changes inside a version found in it are noted.
    func endPartition() {
        for shape in shapes { shape.endPartition() }
    }

    /// `application/json`, `application/vnd.orders+json`, ...: any content type naming JSON.
    private static func mentionsJSON(_ contentType: UnsafeRawBufferPointer) -> Bool {
        let json = Array("json".utf8)
        guard contentType.count >= json.count else { return false }
        for start in 0...(contentType.count - json.count) {
            var equal = true
            for offset in 0..<json.count where contentType[start + offset] | 0x20 != json[offset] { equal = false }
            if equal { return true }
        }
        return false
    }
}

extension VersionShape {
    func matches(eventType: UnsafeRawBufferPointer, version: Int?) -> Bool {
        self.version == version && eventTypeBytes.count == eventType.count && eventTypeBytes.withUnsafeBytes { $0.elementsEqual(eventType) }
    }

    /// Applies one record's sightings, then moves every field's presence pattern on by the record.
    func commit(_ sightings: [FieldSighting], stamp: Int, location: EventLocation) {
        let ordinal = partitionRecords
        partitionRecords += 1
        fields.withUnsafeMutableBufferPointer { fields in
            for sighting in sightings {
                fields[Int(sighting.field)].sight(sighting.type, stamp: stamp, location: location)
            }
            for index in fields.indices where !fields[index].isUnderArray {
                let parent = fields[index].parent
                guard parent < 0 || fields[Int(parent)].objectStamp == stamp else { continue }
                let present = fields[index].seenStamp == stamp
                if (!present || fields[index].nullStamp == stamp) && fields[index].firstMissing == nil {
                    fields[index].firstMissing = location
                }
                fields[index].advance(present: present, ordinal: ordinal, location: location)
            }
        }
    }
}

extension FieldStats {
    /// Counts one value of the field.
    mutating func sight(_ type: JSONTypes, stamp: Int, location: EventLocation) {
        present += 1
        if type == .null {
            nulls += 1
            nullStamp = stamp
        } else if type == .object {
            objects += 1
            objectStamp = stamp
        }
        if !types.contains(type) {
            types.insert(type)
            firstByType[type.index] = location
        }
        if first == nil { first = location }
        last = location
        seenStamp = stamp
    }
}
