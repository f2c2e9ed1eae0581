import StreamStore
import StreamStoreFormat

/// What part of a topic the schema check reads.
package struct SchemaScanOptions: Sendable {
    /// Records from this time on (milliseconds since the epoch); nil: from the log start.
    package var fromMilliseconds: Int64?
    /// Records up to this time; nil: to the log end as the scan starts.
    package var untilMilliseconds: Int64?
    /// Inspect only this event type (the others are counted).
    package var eventType: String?

    package init(fromMilliseconds: Int64? = nil, untilMilliseconds: Int64? = nil, eventType: String? = nil) {
        self.fromMilliseconds = fromMilliseconds
        self.untilMilliseconds = untilMilliseconds
        self.eventType = eventType
    }
}

extension Topic {
    /// Reads the topic once, batch by batch, partition after partition, and infers the shape of
    /// every event type and version from the JSON values; reports each version with its
    /// examples and every change that is not additive, inside a version and between
    /// consecutive ones (``ShapeComparison``).
    ///
    /// No value is decoded into objects: each is walked in place (``JSONShapeWalker``), so the
    /// cost per event is one walk of its bytes and a few lookups. `progress` is told the records
    /// read so far, once per batch.
    package func schemaReport(_ options: SchemaScanOptions = SchemaScanOptions(), progress: (Int) -> Void = { _ in }) async throws(StreamStoreError) -> SchemaReport {
        let recorder = ShapeRecorder(onlyEventType: options.eventType)
        let start = options.fromMilliseconds.map { StartPosition.timestamp($0) } ?? .beginning
        for partition in 0..<partitionCount {
            let end = try logEndOffset(partition: partition)
            let stop = options.untilMilliseconds.map { ReplayStop.timestamp($0) } ?? .offset(end)
            recorder.startPartition()
            for try await batch in replayBatches(partitions: [partition], options: ReplayOptions(from: start, until: stop)) {
                try batch.forEachRecord { view in recorder.observe(view, partition: partition) }
                progress(recorder.records)
            }
            recorder.endPartition()
        }
        return recorder.report(topic: name)
    }
}

extension ShapeRecorder {
    /// The report of everything taken so far: each type's versions, the changes inside each,
    /// and the changes between consecutive versions.
    func report(topic: String) -> SchemaReport {
        var byType: [String: [VersionShape]] = [:]
        for shape in shapes { byType[shape.eventType, default: []].append(shape) }
        var types: [EventTypeReport] = []
        var changes: [SchemaChange] = []
        for name in byType.keys.sorted() {
            let shapes = byType[name, default: []].sorted { ($0.version ?? .max) < ($1.version ?? .max) }
            let versions = shapes.map { $0.report() }
            types.append(EventTypeReport(name: name, versions: versions))
            for (shape, version) in zip(shapes, versions) {
                changes += ShapeComparison.changesInside(version, eventType: name)
                changes += shape.insideChanges.values.sorted { $0.message < $1.message }
            }
            let valid = versions.filter { $0.version != nil }
            for (earlier, later) in zip(valid, valid.dropFirst()) {
                changes += ShapeComparison.changes(from: earlier, to: later, eventType: name, scope: .betweenVersions)
            }
        }
        return SchemaReport(topic: topic, records: records, untypedRecords: untypedRecords, eventTypes: types, changes: changes)
    }
}
