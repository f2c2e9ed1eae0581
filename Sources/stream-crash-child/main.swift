// A child process for crash tests (Tests/StreamStoreTests/CrashTests.swift, tools/crash-loop.sh):
// appends forever from several tasks and reports every acknowledged batch on stdout, until
// it is killed with SIGKILL at a random moment.
//
// usage: stream-crash-child STORE_DIR FLUSH(everyAppend|never|interval:MS) [TASKS] [RECORDS_PER_BATCH]
//        stream-crash-child consume STORE_DIR GROUP
//        stream-crash-child retention STORE_DIR
//        stream-crash-child process STORE_DIR GROUP
// The retention mode appends to topic "retained" (small segments, a small byte budget) and runs
// retention after every few batches, reporting acknowledged batches as above (task 0) and
//   start PARTITION LOG_START_OFFSET   after each retention run
// The consume mode reads topic "crash" as a member of GROUP and, per record, prints
//   handled PARTITION OFFSET        after handling it, before committing
//   committed PARTITION NEXT_OFFSET after the commit returned
// The process mode runs Consumer.process on topic "crash" as a member of GROUP; every record
// whose offset is 3 modulo 7 fails all of its 3 attempts and is dead-lettered. It prints
//   handled PARTITION OFFSET        after the handler succeeded, before the commit
//   failing PARTITION OFFSET        after the last attempt failed, before the dead letter
// Each record's value is "TASK:SEQ", SEQ counting from the task's first record in this run
// (RUN ids keep runs apart). An acknowledged batch is reported as one line:
//   ack PARTITION BASE_OFFSET LAST_OFFSET TASK FIRST_SEQ RUN
import Foundation
import StreamStore

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "retention" {
    await appendWithRetention(store: arguments[2])
    exit(0)
}
if arguments.count == 4, arguments[1] == "process" {
    await processWithDeadLetters(store: arguments[2], group: arguments[3])
    exit(0)
}
if arguments.count == 4, arguments[1] == "consume" {
    await consume(store: arguments[2], group: arguments[3])
    exit(0)
}
guard arguments.count >= 3, let flush = FlushPolicy(configValue: arguments[2]) else {
    FileHandle.standardError.write(Data("usage: stream-crash-child STORE_DIR everyAppend|never|interval:MS [TASKS] [RECORDS_PER_BATCH]\n".utf8))
    exit(2)
}
let taskCount = arguments.count > 3 ? Int(arguments[3]) ?? 4 : 4
let recordsPerBatch = arguments.count > 4 ? Int(arguments[4]) ?? 50 : 50
let run = UInt32.random(in: 0...UInt32.max)

let store: Store
let topic: Topic
do {
    store = try Store.open(at: arguments[1])
    topic = try store.createTopic("crash", config: TopicConfig(partitionCount: 2, segmentBytes: 64 * 1024, indexIntervalBytes: 1024, flush: flush))
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
let output = NSLock()
FileHandle.standardOutput.write(Data("ready\n".utf8))

await withTaskGroup(of: Void.self) { group in
    for task in 0..<taskCount {
        group.addTask {
            var sequence = 0
            var batch = RecordBatch()
            while true {
                batch.removeAll()
                let first = sequence
                for _ in 0..<recordsPerBatch {
                    try? batch.append(key: nil, value: Array("\(task):\(sequence):\(run)".utf8))
                    sequence += 1
                }
                do {
                    let receipt = try await topic.append(batch, partition: task % 2)
                    let line = "ack \(receipt.partition) \(receipt.baseOffset) \(receipt.lastOffset) \(task) \(first) \(run)\n"
                    // One write per line, under a lock, so lines from different tasks never interleave.
                    output.withLock { FileHandle.standardOutput.write(Data(line.utf8)) }
                } catch {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                    exit(1)
                }
            }
        }
    }
}

/// Consumes topic "crash" as a member of `group`, reporting each record handled and committed.
func consume(store path: String, group: String) async {
    do {
        let store = try Store.open(at: path)
        let consumer = try store.consumer(group: group, topic: "crash")
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        for try await record in consumer.records {
            FileHandle.standardOutput.write(Data("handled \(record.partition) \(record.offset)\n".utf8))
            try await consumer.commit(record)
            FileHandle.standardOutput.write(Data("committed \(record.partition) \(record.offset + 1)\n".utf8))
        }
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

/// Processes topic "crash" as a member of `group`, dead-lettering every record whose offset is
/// 3 modulo 7 after three failed attempts, and reports each record handled or given up on.
func processWithDeadLetters(store path: String, group: String) async {
    struct Poison: Error {}
    do {
        let store = try Store.open(at: path)
        let consumer = try store.consumer(group: group, topic: "crash")
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        _ = try await consumer.process(
            retry: RetryPolicy(maxAttempts: 3, initialBackoffMilliseconds: 0, jitterFraction: 0), sleep: { _ in },
            onFailure: { failure in
                guard failure.nextStep == .deadLetter else { return }
                FileHandle.standardOutput.write(Data("failing \(failure.record.partition) \(failure.record.offset)\n".utf8))
            }
        ) { record in
            if record.offset % 7 == 3 { throw Poison() }
            FileHandle.standardOutput.write(Data("handled \(record.partition) \(record.offset)\n".utf8))
        }
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

/// Appends to topic "retained" and enforces retention every few batches, so SIGKILL lands in
/// the middle of deletions as often as in appends.
func appendWithRetention(store path: String) async {
    do {
        let store = try Store.open(at: path, options: Store.Options(retentionCheckMilliseconds: nil))
        let topic = try store.createTopic(
            "retained",
            config: TopicConfig(segmentBytes: 4096, indexIntervalBytes: 512, flush: .everyAppend, retentionMilliseconds: nil, retentionBytes: 16_384))
        let run = UInt32.random(in: 0...UInt32.max)
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        var sequence = 0
        var batch = RecordBatch()
        while true {
            batch.removeAll()
            let first = sequence
            for _ in 0..<10 {
                try batch.append(key: nil, value: Array("0:\(sequence):\(run)".utf8))
                sequence += 1
            }
            let receipt = try await topic.append(batch, partition: 0)
            FileHandle.standardOutput.write(Data("ack 0 \(receipt.baseOffset) \(receipt.lastOffset) 0 \(first) \(run)\n".utf8))
            if sequence % 50 == 0 {
                for report in try store.enforceRetention(topic: "retained") {
                    FileHandle.standardOutput.write(Data("start \(report.partition) \(report.logStartOffset)\n".utf8))
                }
            }
        }
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}
