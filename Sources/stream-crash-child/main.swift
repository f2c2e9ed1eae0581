// A child process for crash tests (Tests/StreamStoreTests/CrashTests.swift, tools/crash-loop.sh):
// appends forever from several tasks and reports every acknowledged batch on stdout, until
// it is killed with SIGKILL at a random moment.
//
// usage: stream-crash-child STORE_DIR FLUSH(everyAppend|never|interval:MS) [TASKS] [RECORDS_PER_BATCH]
//        stream-crash-child consume STORE_DIR GROUP
//        stream-crash-child retention STORE_DIR
//        stream-crash-child guarded STORE_DIR FLUSH FROM0 FROM1
//        stream-crash-child process STORE_DIR GROUP
//        stream-crash-child fill STORE_DIR TOPIC COUNT      (see Readers.swift)
//        stream-crash-child tail STORE_DIR TOPIC COUNT      (see Readers.swift)
//        stream-crash-child member STORE_DIR GROUP
// The retention mode appends to topic "retained" (small segments, a small byte budget) and runs
// retention after every few batches, reporting acknowledged batches as above (task 0) and
//   start PARTITION LOG_START_OFFSET   after each retention run
// The consume mode reads topic "crash" as a member of GROUP and, per record, prints
//   handled PARTITION OFFSET        after handling it, before committing
//   committed PARTITION NEXT_OFFSET after the commit returned
// The guarded mode resends, as a producer restarting after a crash does, every record from
// FROM0 (task 0, partition 0) and FROM1 (task 1, partition 1) onwards into topic "guarded":
// record number N of task T has value "T:N" and message-id "T-N", batches of 10 records start
// at multiples of 10, task 0's batches are also idempotent (producer id 7000, epoch 0, base
// sequence N). Both must come out exactly once. Per batch acknowledged it prints
//   gack PARTITION FIRST_N FIRST_OFFSET LAST_OFFSET DUPLICATES
// where the offsets are where the batch's first and last record now lie (their originals' when
// they were duplicates) and DUPLICATES counts the records left out.
// The process mode runs Consumer.process on topic "crash" as a member of GROUP; every record
// whose offset is 3 modulo 7 fails all of its 3 attempts and is dead-lettered. It prints
//   handled PARTITION OFFSET        after the handler succeeded, before the commit
//   failing PARTITION OFFSET        after the last attempt failed, before the dead letter
// The member mode opens the store read-only (beside a writer process) and consumes topic
// "shared" as a member of GROUP, competing with other member processes. T is the monotonic
// clock in nanoseconds (one clock for every process of the machine). It prints
//   owns PARTITION T                once it owns a partition (its lease taken)
//   releases PARTITION T            when it gives one up (before its lease goes)
//   handling PARTITION OFFSET T     before handling a record (which takes about 0.2 ms)
//   handled PARTITION OFFSET T      after handling it, before committing
//   committed PARTITION NEXT T      after the commit returned
// Each record's value is "TASK:SEQ", SEQ counting from the task's first record in this run
// (RUN ids keep runs apart). An acknowledged batch is reported as one line:
//   ack PARTITION BASE_OFFSET LAST_OFFSET TASK FIRST_SEQ RUN
import Foundation
import StreamStore

let arguments = CommandLine.arguments
if arguments.count == 5, arguments[1] == "fill", let count = Int(arguments[4]) {
    await fill(store: arguments[2], topic: arguments[3], count: count)
    exit(0)
}
if arguments.count == 5, arguments[1] == "tail", let count = Int(arguments[4]) {
    await tail(store: arguments[2], topic: arguments[3], count: count)
    exit(0)
}
if arguments.count == 3, arguments[1] == "retention" {
    await appendWithRetention(store: arguments[2])
    exit(0)
}
if arguments.count == 6, arguments[1] == "guarded", let flush = FlushPolicy(configValue: arguments[3]),
   let from0 = Int(arguments[4]), let from1 = Int(arguments[5]) {
    await appendGuarded(store: arguments[2], flush: flush, from: [from0, from1])
    exit(0)
}
if arguments.count == 4, arguments[1] == "process" {
    await processWithDeadLetters(store: arguments[2], group: arguments[3])
    exit(0)
}
if arguments.count == 4, arguments[1] == "member" {
    await consumeAsMember(store: arguments[2], group: arguments[3])
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
    die(error)
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
                    die(error)
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
        die(error)
    }
}

/// Consumes topic "shared" from a read-only store as one member process of `group`, reporting
/// ownership changes and each record handled and committed, with monotonic timestamps.
func consumeAsMember(store path: String, group: String) async {
    @Sendable func say(_ line: String) {
        FileHandle.standardOutput.write(Data("\(line) \(DispatchTime.now().uptimeNanoseconds)\n".utf8))
    }
    do {
        let store = try Store.open(at: path, options: Store.Options(retentionCheckMilliseconds: nil, mode: .readOnly))
        let consumer = try store.consumer(group: group, topic: "shared")
        // Called as ownership changes, under the member's lock: "owns" after the lease is taken,
        // "releases" before it is let go, so the printed spans lie within the lease's.
        consumer.observeOwnership { partition, owned in say(owned ? "owns \(partition)" : "releases \(partition)") }
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        for try await record in consumer.records {
            say("handling \(record.partition) \(record.offset)")
            usleep(200)
            say("handled \(record.partition) \(record.offset)")
            try await consumer.commit(record)
            say("committed \(record.partition) \(record.offset + 1)")
        }
    } catch {
        die(error)
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
        die(error)
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
        die(error)
    }
}

/// Resends each task's records from `from[task]` onwards into topic "guarded", which must keep
/// every record exactly once: the message-id window (both tasks) and the producer sequence
/// (task 0) drop what an earlier run appended.
func appendGuarded(store path: String, flush: FlushPolicy, from: [Int]) async {
    let recordsPerBatch = 10
    let store: Store
    let topic: Topic
    do {
        store = try Store.open(at: path, options: Store.Options(retentionCheckMilliseconds: nil))
        let config = TopicConfig(
            partitionCount: 2, segmentBytes: 16 * 1024, indexIntervalBytes: 1024, flush: flush,
            retentionMilliseconds: nil, dedupeWindowMilliseconds: 3_600_000)
        topic = try (try? store.topic("guarded")) ?? store.createTopic("guarded", config: config)
    } catch {
        die(error)
    }
    let output = NSLock()
    FileHandle.standardOutput.write(Data("ready\n".utf8))
    await withTaskGroup(of: Void.self) { group in
        for task in 0..<2 {
            group.addTask {
                var next = from[task]
                var batch = RecordBatch()
                while true {
                    batch.removeAll()
                    if task == 0 {
                        batch.producerId = 7000
                        batch.producerEpoch = 0
                        batch.baseSequence = Int32(truncatingIfNeeded: next)
                    }
                    for n in next..<(next + recordsPerBatch) {
                        try? batch.append(key: nil, value: Array("\(task):\(n)".utf8), headers: [RecordHeader(key: "message-id", value: "\(task)-\(n)")])
                    }
                    do {
                        let receipt = try await topic.append(batch, partition: task)
                        let first = receipt.offset(ofRecordAt: 0), last = receipt.offset(ofRecordAt: recordsPerBatch - 1)
                        let line = "gack \(first.partition) \(next) \(first.offset) \(last.offset) \(receipt.duplicates.count)\n"
                        output.withLock { FileHandle.standardOutput.write(Data(line.utf8)) }
                    } catch {
                        FileHandle.standardError.write(Data("error: task \(task) at \(next): \(error)\n".utf8))
                        exit(1)
                    }
                    next += recordsPerBatch
                }
            }
        }
    }
}

/// Reports `error` on stderr (the harness shows it) and exits 1.
func die(_ error: any Error) -> Never {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
