import StreamStoreFormat
import Foundation

extension Partition {
    /// Deletes the oldest segments that retention allows (docs/FORMAT.md, "Retention"): those whose newest
    /// record is older than `retentionMilliseconds`, then oldest first while the partition is
    /// over `retentionBytes`. Deletion is an oldest-first prefix. When every sealed segment
    /// expired and the active one holds only expired records, the active segment is rolled so it
    /// can go too.
    ///
    /// Order on disk, for crashes: the new log start offset is checkpointed first, then files are
    /// unlinked; a partition opened after a crash in between deletes segments below its log start.
    /// A checkpoint that cannot be written fails the run with nothing deleted and the partition
    /// still appending, except on a full disk (`ENOSPC`, `EDQUOT`), which is when retention is
    /// run by hand and the one time it must not fail: then the segments go first, which frees
    /// the room, and the checkpoint follows. That order is safe too: a segment's `.log` goes
    /// first, a partition opens with its log start at its first segment when the checkpoint is
    /// behind it, and leftover index files of a segment without a log are removed; so a crash
    /// in between leaves a shorter prefix deleted, never a hole.
    package func enforceRetention(nowMilliseconds now: Int64, dryRun: Bool) throws(StreamStoreError) -> PartitionRetention {
        let (report, doomed, pendingCheckpoint) = try lock.withLock { () throws(StreamStoreError) -> (PartitionRetention, [Segment], Checkpoint?) in
            guard !isClosed else { throw StreamStoreError(.storeClosed, "The store is closed.", topic: topic, partition: id) }
            let config = context.config
            let cutoff = config.retentionMilliseconds.map { now - $0 }
            var judged: [SegmentRetention] = []
            for segment in segments.dropLast() {
                let next = segment.nextOffsetIfSealed ?? segment.baseOffset
                let newest = try segment.sealedMaxTimestamp()
                judged.append(SegmentRetention(
                    baseOffset: segment.baseOffset, nextOffset: next, sizeBytes: try segment.sealedSize(),
                    maxTimestamp: newest >= 0 ? newest : nil, reason: ""))
            }
            let activeNewest = cadence.maxTimestamp > Int64.min ? cadence.maxTimestamp : nil
            judged.append(SegmentRetention(
                baseOffset: activeFiles.offsetIndex.baseOffset, nextOffset: nextOffset, sizeBytes: activeSizeBytes, maxTimestamp: activeNewest, reason: ""))
            let before = judged.reduce(0) { $0 + $1.sizeBytes }

            // Time: the expired prefix. The active segment counts when everything before it went.
            var deleteCount = 0
            if let cutoff {
                while deleteCount < judged.count, judged[deleteCount].sizeBytes > 0,
                    let newest = judged[deleteCount].maxTimestamp, newest < cutoff
                {
                    judged[deleteCount].reason = "time"
                    deleteCount += 1
                }
            }
            // Size: oldest first while over the budget; never the active segment.
            if let budget = config.retentionBytes {
                var total = judged[deleteCount...].reduce(0) { $0 + $1.sizeBytes }
                while total > budget, deleteCount < judged.count - 1 {
                    judged[deleteCount].reason = "size"
                    total -= judged[deleteCount].sizeBytes
                    deleteCount += 1
                }
            }
            let rollsActive = deleteCount == judged.count
            for index in deleteCount..<judged.count {
                judged[index].reason = keepReason(judged[index], isActive: index == judged.count - 1, isFirstKept: index == deleteCount, cutoff: cutoff, config: config)
            }
            var report = PartitionRetention(
                topic: topic, partition: id, logStartOffsetBefore: logStartOffset, logStartOffset: logStartOffset,
                deleted: Array(judged[..<deleteCount]), kept: Array(judged[deleteCount...]), bytesBefore: before,
                bytesAfter: judged[deleteCount...].reduce(0) { $0 + $1.sizeBytes })
            if rollsActive {
                report.kept = [SegmentRetention(baseOffset: nextOffset, nextOffset: nextOffset, sizeBytes: 0, maxTimestamp: nil, reason: "the new active segment, rolled so the expired one could go")]
            }
            guard !dryRun, deleteCount > 0 else {
                if deleteCount > 0 { report.logStartOffset = rollsActive ? nextOffset : judged[deleteCount].baseOffset }
                return (report, [], nil)
            }
            if rollsActive { try roll(now: now) }
            // The checkpoint goes first: when it cannot be written (a full disk, which is when
            // retention is run by hand), nothing has changed, and the run can simply be repeated.
            let newLogStart = segments[deleteCount].baseOffset
            let newRecoveryPoint = max(recoveryPoint, newLogStart)
            let checkpoint = Checkpoint(logStartOffset: newLogStart, recoveryPoint: newRecoveryPoint)
            var pendingCheckpoint: Checkpoint?
            do throws(StreamStoreError) {
                try writeCheckpoint(checkpoint)
            } catch let error where error.isOutOfSpace {
                context.logger.warning("The disk is full: deleting \(deleteCount) segment(s) before checkpointing the new log start \(newLogStart).")
                pendingCheckpoint = checkpoint
            } catch {
                throw error.with(topic: topic, partition: id)
            }
            let doomed = Array(segments[..<deleteCount])
            segments.removeFirst(deleteCount)
            logStartOffset = newLogStart
            recoveryPoint = newRecoveryPoint
            report.logStartOffset = logStartOffset
            lagGauges.refresh(logStart: logStartOffset, logEnd: visible.offset)
            // Tailing readers below the new start move per their reset policy; reader processes
            // learn the new start and segment list with the same publish.
            segmentListVersion &+= 1
            publish(visible)
            return (report, doomed, pendingCheckpoint)
        }
        for segment in doomed { try segment.delete() }
        if !doomed.isEmpty {
            try Directory(fileSystem: context.fileSystem).sync(context.folder)
            context.logger.info("Retention deleted \(doomed.count) segment(s); the log now starts at offset \(report.logStartOffset).")
        }
        // Only shortens the next recovery: the log start is already where the files say.
        if let pendingCheckpoint { writeCheckpointIfPossible(pendingCheckpoint) }
        return report
    }

    private func keepReason(_ segment: SegmentRetention, isActive: Bool, isFirstKept: Bool, cutoff: Int64?, config: LogConfig) -> String {
        if segment.sizeBytes == 0 && isActive { return "the active segment (empty)" }
        var reasons: [String] = []
        if isActive { reasons.append("the active segment") }
        if !isFirstKept {
            reasons.append("an older segment is kept (deletion takes the oldest first)")
        } else {
            if let cutoff, let newest = segment.maxTimestamp, let retention = config.retentionMilliseconds, newest >= cutoff {
                reasons.append("its newest record (\(Self.isoTime(newest))) is inside the \(Self.duration(retention)) window until \(Self.isoTime(newest + retention))")
            }
            if config.retentionBytes != nil && !isActive { reasons.append("the partition is within retentionBytes") }
            if config.retentionMilliseconds == nil && config.retentionBytes == nil { reasons.append("retention is unlimited") }
        }
        return reasons.joined(separator: "; ")
    }

    static func isoTime(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func duration(_ milliseconds: Int64) -> String {
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }
}
