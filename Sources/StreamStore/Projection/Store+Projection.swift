import StreamStoreFormat
import StreamStoreLog
extension Store {
    /// Rebuilds `projection` from `topic`: loads the newest valid snapshot (falling back to an
    /// older one, or to a full replay, when one is corrupt or of another projection version;
    /// ``RebuildReport/skippedSnapshots`` says which and why), folds the records after it up to
    /// the current log end, and saves a new snapshot when `saveSnapshot` is true and records were
    /// folded.
    ///
    /// When retention removed records a snapshot had not yet folded, or a full replay cannot
    /// start at offset 0, the records still kept are folded (the report's offsets tell).
    public func rebuild<P: Projection>(_ projection: P, from topicName: String, saveSnapshot: Bool = true) async throws(StreamStoreError) -> ProjectionResult<P.State> {
        try await rebuildProjection(projection, from: topicName, saveSnapshot: saveSnapshot)
    }
}

extension TopicDirectory {
    /// ``Store/rebuild(_:from:saveSnapshot:)`` over the store's topics.
    func rebuildProjection<P: Projection>(_ projection: P, from topicName: String, saveSnapshot: Bool) async throws(StreamStoreError) -> ProjectionResult<P.State> {
        guard FileNames.isValidTopicName(projection.name) else {
            throw StreamStoreError(.invalidProjectionName, "\"\(quoted(projection.name))\" is not a valid projection name: use 1 to 249 of a-z A-Z 0-9 . _ -.")
        }
        let topic = try self.topic(topicName)
        let snapshots = snapshotStore(projection: projection.name, topic: topicName)
        var report = RebuildReport(snapshotSequence: nil, skippedSnapshots: [], replayedRecords: 0, savedSnapshotSequence: nil)
        var state = projection.initialState()
        var offsets: [Int: Int64] = [:]
        for sequence in try snapshots.sequences() {
            do throws(StreamStoreError) {
                let payload = try snapshots.load(sequence, as: P.State.self)
                guard payload.projection == projection.name, payload.topic == topicName else {
                    throw StreamStoreError(.corruptSnapshot, "it belongs to projection \(quoted(payload.projection)) of topic \(quoted(payload.topic))")
                }
                guard payload.projectionVersion == projection.version else {
                    throw StreamStoreError(.corruptSnapshot, "it was made by projection version \(payload.projectionVersion), not \(projection.version)")
                }
                guard payload.partitionCount == topic.partitionCount else {
                    throw StreamStoreError(.corruptSnapshot, "it covers \(payload.partitionCount) partitions; the topic has \(topic.partitionCount)")
                }
                for (partition, offset) in payload.offsets {
                    let end = try topic.logEndOffset(partition: partition)
                    guard offset >= 0, offset <= end else {
                        throw StreamStoreError(.corruptSnapshot, "it includes \(quoted(topicName))[\(partition)] up to offset \(offset), past the log end \(end) (the log lost its tail after it was made)")
                    }
                }
                state = payload.state
                offsets = payload.offsets
                report.snapshotSequence = sequence
                break
            } catch {
                report.skippedSnapshots.append(RebuildReport.SkippedSnapshot(path: snapshots.path(sequence), reason: error.message))
                options.logger.warning("Projection \(projection.name): skipping snapshot \(snapshots.path(sequence)): \(error.message)")
            }
        }

        // Fold each partition from its snapshot offset to the log end as it is now.
        for partition in 0..<topic.partitionCount {
            let end = try topic.logEndOffset(partition: partition)
            let start = offsets[partition].map { StartPosition.offset($0) } ?? .beginning
            let replay = topic.replayBatches(partitions: [partition], options: ReplayOptions(from: start, until: .offset(end)))
            for try await batch in replay {
                for record in try storedRecords(of: batch, topic: topicName) {
                    do {
                        try projection.apply(record, to: &state)
                    } catch let error as StreamStoreError where error.isEventDecodingFailure {
                        // An event projection's decoder failed: its own code says what to do.
                        throw error.with(topic: topicName, partition: partition)
                    } catch {
                        throw StreamStoreError(
                            .projectionFailed, "Projection \(quoted(projection.name)) failed on \(quoted(topicName))[\(partition)] offset \(record.offset): \(error)",
                            topic: topicName, partition: partition, offset: record.offset)
                    }
                    report.replayedRecords += 1
                }
            }
            offsets[partition] = end
        }

        if saveSnapshot && (report.replayedRecords > 0 || report.snapshotSequence == nil) {
            let payload = SnapshotStore.Payload(
                projection: projection.name, projectionVersion: projection.version, topic: topicName, partitionCount: topic.partitionCount,
                offsets: offsets, createdMilliseconds: options.clock.nowMilliseconds(), state: state)
            report.savedSnapshotSequence = try snapshots.save(payload)
        }
        return ProjectionResult(state: state, offsets: offsets, report: report)
    }

    func snapshotStore(projection: String, topic: String) -> SnapshotStore {
        SnapshotStore(
            folder: FileNames.join(FileNames.join(FileNames.join(path, FileNames.snapshotsFolder), projection), topic),
            fileSystem: options.fileSystem)
    }

    private func storedRecords(of batch: StoredBatch, topic: String) throws(StreamStoreError) -> [StoredRecord] {
        do {
            return try batch.storedRecords()
        } catch {
            throw error.with(topic: topic, partition: batch.partition)
        }
    }
}
