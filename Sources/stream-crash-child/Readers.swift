import Foundation
import StreamStore

// Reader and filler modes for the tests of many processes on one store
// (Tests/StreamStoreTests/ReaderProcessTests.swift).
//
//   stream-crash-child fill STORE TOPIC COUNT
//     Opens STORE for writing and appends COUNT records to TOPIC (which must exist), spread over
//     its partitions in batches of 500, as fast as it can; record N of partition P has the value
//     "P:N:" followed by 100 bytes of "x". Prints "filled" and exits after a clean close.
//   stream-crash-child tail STORE TOPIC COUNT
//     Opens STORE read-only, prints "ready", then follows every partition of TOPIC from the
//     beginning and prints, per record seen,
//       seen PARTITION OFFSET CRC32C-OF-VALUE
//     exiting after COUNT records (0: never; it runs until killed) with a last line "end SEEN".

/// Appends `count` records to `topicName` as fast as one task can.
func fill(store path: String, topic topicName: String, count: Int) async {
    do {
        let store = try Store.open(at: path)
        let topic = try store.topic(topicName)
        let partitions = topic.partitionCount
        var next = [Int](repeating: 0, count: partitions)
        var written = 0
        var batch = RecordBatch()
        let padding = [UInt8](repeating: UInt8(ascii: "x"), count: 100)
        while written < count {
            let partition = (written / 500) % partitions
            batch.removeAll()
            for _ in 0..<min(500, count - written) {
                try batch.append(key: nil, value: Array("\(partition):\(next[partition]):".utf8) + padding)
                next[partition] += 1
                written += 1
            }
            _ = try await topic.append(batch, partition: partition)
        }
        try store.close()
        FileHandle.standardOutput.write(Data("filled\n".utf8))
    } catch {
        die(error)
    }
}

/// Follows every partition of `topicName` in a read-only store, printing each record seen.
func tail(store path: String, topic topicName: String, count: Int) async {
    do {
        let store = try Store.open(at: path, options: Store.Options(retentionCheckMilliseconds: nil, mode: .readOnly))
        let topic = try store.topic(topicName)
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        var seen = 0
        var lines = ""
        for try await batch in topic.replayBatches(options: ReplayOptions(from: .beginning, follow: true)) {
            try batch.forEachRecord(from: 0) { record in
                let crc = record.value.map { CRC32C.checksum($0) } ?? 0
                lines += "seen \(batch.partition) \(record.offset) \(crc)\n"
                seen += 1
            }
            // One write per batch: whole lines, promptly, so a test waiting for them sees them.
            FileHandle.standardOutput.write(Data(lines.utf8))
            lines.removeAll(keepingCapacity: true)
            if count > 0 && seen >= count { break }
        }
        try store.close()
        FileHandle.standardOutput.write(Data("end \(seen)\n".utf8))
    } catch {
        die(error)
    }
}
