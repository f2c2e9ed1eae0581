import Foundation
import MetricsTestKit
import Testing

@testable import StreamStore
@testable import StreamStoreFormat
@testable import StreamStoreLog
@testable import StreamStoreInspect

/// What the store reports through swift-metrics, read back from a `TestMetrics` factory of each
/// test's own (Store.Options.metricsFactory), so tests running in parallel never share counts.
@Suite(.timeLimit(.minutes(5))) struct MetricsTests {
    func dimensions(_ topic: String = "events", partition: Int = 0) -> [(String, String)] {
        [("topic", topic), ("partition", String(partition))]
    }

    func counter(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)]) throws -> Int64 {
        try metrics.expectCounter(label, dimensions).totalValue
    }

    func lagGauge(_ metrics: TestMetrics, group: String, partition: Int = 0) throws -> Double? {
        try metrics.expectGauge("streamstore_consumer_lag_records", [("group", group)] + dimensions(partition: partition)).lastValue
    }

    @Test func appendsCountRecordsBatchesAndTheBytesWrittenPerPartition() async throws {
        let fixture = try StoreFixture()
        let metrics = TestMetrics()
        try fixture.open(metrics: metrics)
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        try await fixture.append(topic, count: 30, batchSize: 10, partition: 0)
        try await fixture.append(topic, count: 5, batchSize: 10, partition: 1)

        #expect(try counter(metrics, "streamstore_appended_records_total", dimensions(partition: 0)) == 30)
        #expect(try counter(metrics, "streamstore_appended_batches_total", dimensions(partition: 0)) == 3)
        #expect(try counter(metrics, "streamstore_appended_records_total", dimensions(partition: 1)) == 5)
        #expect(try counter(metrics, "streamstore_appended_batches_total", dimensions(partition: 1)) == 1)
        // Every byte of the one segment of each partition was appended as a batch.
        for partition in 0..<2 {
            let logBytes = try fixture.fileSize(try #require(try fixture.segmentFiles(partition: partition).first))
            #expect(try counter(metrics, "streamstore_appended_bytes_total", dimensions(partition: partition)) == Int64(logBytes))
        }
        #expect(try counter(metrics, "streamstore_fsyncs_total", dimensions(partition: 0)) == 0, "flush .never fsyncs nothing while open")
    }

    @Test func everyAppendFsyncsOncePerAppendAndTimesEachFsync() async throws {
        let fixture = try StoreFixture()
        let metrics = TestMetrics()
        try fixture.open(metrics: metrics)
        let topic = try fixture.topic(config: TopicConfig(flush: .everyAppend))
        for index in 0..<4 { try await fixture.append(topic, count: 3, first: index * 3) }

        #expect(try counter(metrics, "streamstore_fsyncs_total", dimensions()) == 4)
        let durations = try metrics.expectTimer("streamstore_fsync_duration_seconds", dimensions()).values
        #expect(durations.count == 4)
        #expect(durations.allSatisfy { $0 > 0 })
        try fixture.reopen()
        #expect(try counter(metrics, "streamstore_fsyncs_total", dimensions()) == 5, "a clean close fsyncs the active segment once")
    }

    @Test func aTornTailCountsOneRecoveryTruncationAndTheBytesCut() async throws {
        let fixture = try StoreFixture()
        let topic = try fixture.topic(config: TopicConfig(flush: .never))
        try await fixture.append(topic, count: 100, batchSize: 10)
        fixture.crash()
        let log = try #require(try fixture.segmentFiles().last)
        try fixture.truncate(log, byteCount: 5)
        let tornBytes = try fixture.fileSize(log)

        let metrics = TestMetrics()
        let store = try fixture.open(metrics: metrics)
        let cutBytes = Int64(tornBytes - (try fixture.fileSize(log)))
        #expect(cutBytes > 0)
        #expect(store.recoveries.first?.truncatedBytes == cutBytes)
        #expect(try counter(metrics, "streamstore_recovery_truncations_total", dimensions()) == 1)
        #expect(try counter(metrics, "streamstore_recovery_truncated_bytes_total", dimensions()) == cutBytes)

        let cleanMetrics = TestMetrics()
        try fixture.store?.close()
        try fixture.open(metrics: cleanMetrics)
        #expect(try counter(cleanMetrics, "streamstore_recovery_truncations_total", dimensions()) == 0)
    }

    @Test func recordsDroppedByTheMessageIDWindowCountAsDedupeHits() async throws {
        let fixture = try StoreFixture()
        let metrics = TestMetrics()
        try fixture.open(metrics: metrics)
        let topic = try fixture.topic(config: TopicConfig(flush: .never, dedupeWindowMilliseconds: 60_000))
        func message(_ id: String) -> Record { Record(value: "v-\(id)", headers: [RecordHeader(.messageID, id)]) }

        _ = try await topic.append([message("m-1"), message("m-2")], partition: 0)
        #expect(try counter(metrics, "streamstore_dedupe_hits_total", [("topic", "events")]) == 0)
        // m-2 is in the window; the second m-3 repeats the first of the same batch.
        let retry = try await topic.append([message("m-2"), message("m-3"), message("m-3")], partition: 0)
        #expect(retry.duplicates.count == 2)
        #expect(try counter(metrics, "streamstore_dedupe_hits_total", [("topic", "events")]) == 2)
        // A batch of duplicates only writes nothing and counts each record.
        _ = try await topic.append([message("m-1")], partition: 0)
        #expect(try counter(metrics, "streamstore_dedupe_hits_total", [("topic", "events")]) == 3)
        #expect(try counter(metrics, "streamstore_appended_records_total", dimensions()) == 3)
        #expect(try counter(metrics, "streamstore_appended_batches_total", dimensions()) == 2)
    }

    @Test func aRetriedIdempotentBatchCountsAsADuplicateBatchAndIsNotAppended() async throws {
        let fixture = try StoreFixture()
        let metrics = TestMetrics()
        try fixture.open(metrics: metrics)
        let topic = try fixture.topic()
        func batch(sequence: Int32) throws -> RecordBatch {
            var batch = RecordBatch()
            batch.producerId = 7
            batch.producerEpoch = 0
            batch.baseSequence = sequence
            for index in 0..<3 { try batch.append(key: nil, value: Array("s\(Int(sequence) + index)".utf8)) }
            return batch
        }
        _ = try await topic.append(try batch(sequence: 0), partition: 0)
        _ = try await topic.append(try batch(sequence: 3), partition: 0)
        #expect(try counter(metrics, "streamstore_duplicate_batches_total", dimensions()) == 0)
        #expect(try await topic.append(try batch(sequence: 3), partition: 0).isDuplicate)
        #expect(try counter(metrics, "streamstore_duplicate_batches_total", dimensions()) == 1)
        #expect(try counter(metrics, "streamstore_appended_batches_total", dimensions()) == 2)
        #expect(try counter(metrics, "streamstore_appended_records_total", dimensions()) == 6)
    }

    @Test func theLagGaugeFollowsCommitsAndAppendsAndAgreesWithLag() async throws {
        let fixture = try StoreFixture()
        let metrics = TestMetrics()
        let store = try fixture.open(metrics: metrics)
        let topic = try fixture.topic(config: TopicConfig(partitionCount: 2, flush: .never))
        try await fixture.append(topic, count: 10)
        let group = try store.group("billing")
        #expect(throws: TestMetricsError.self) { try lagGauge(metrics, group: "billing") }

        try await group.commit(topic: "events", offsets: [0: 4])
        #expect(try lagGauge(metrics, group: "billing") == 6)
        // Appends move the gauge of a group that committed, without a call to lag().
        try await fixture.append(topic, count: 5, first: 10)
        #expect(try lagGauge(metrics, group: "billing") == 11)
        let lag = try group.lag(topic: "events")
        #expect(lag.map(\.lagRecords) == [11, 0])
        // lag() sets the gauge of a partition the group never committed too.
        #expect(try lagGauge(metrics, group: "billing", partition: 1) == 0)
        try await fixture.append(topic, count: 2, partition: 1)
        #expect(try lagGauge(metrics, group: "billing", partition: 1) == 2)

        try await group.commit(topic: "events", offsets: [0: 15])
        #expect(try lagGauge(metrics, group: "billing") == 0)
        try await group.reset(topic: "events", to: .beginning)
        #expect(try lagGauge(metrics, group: "billing") == 15)
        #expect(try lagGauge(metrics, group: "billing", partition: 1) == 2)
    }

    @Test func underEveryAppendTheLagGaugeMovesOnceTheRecordsAreDurable() async throws {
        let fixture = try StoreFixture()
        let metrics = TestMetrics()
        let store = try fixture.open(metrics: metrics)
        let topic = try fixture.topic(config: TopicConfig(flush: .everyAppend))
        try await fixture.append(topic, count: 3)
        try await store.group("audit").commit(topic: "events", offsets: [0: 1])
        #expect(try lagGauge(metrics, group: "audit") == 2)
        try await fixture.append(topic, count: 4, first: 3)
        #expect(try lagGauge(metrics, group: "audit") == 6)
        #expect(try store.group("audit").lag(topic: "events").first?.lagRecords == 6)
    }

    @Test func retentionPastACommitMovesTheLagGaugeToTheNewLogStart() async throws {
        let fixture = try StoreFixture()
        let metrics = TestMetrics()
        let store = try fixture.open(metrics: metrics)
        let topic = try fixture.topic(config: TopicConfig(segmentBytes: 4096, flush: .never, retentionBytes: 4096))
        try await fixture.append(topic, count: 400, batchSize: 20)
        try await store.group("slow").commit(topic: "events", offsets: [0: 10])
        #expect(try lagGauge(metrics, group: "slow") == 390)

        _ = try store.enforceRetention()
        let logStart = try topic.logStartOffset(partition: 0)
        #expect(logStart > 10)
        #expect(try lagGauge(metrics, group: "slow") == Double(400 - logStart))
        #expect(try store.group("slow").lag(topic: "events").first?.lagRecords == 400 - logStart)
    }

    @Test func everyDeadLetteredRecordIsCountedForItsTopic() async throws {
        let fixture = try StoreFixture()
        let metrics = TestMetrics()
        let store = try fixture.open(metrics: metrics)
        let orders = try fixture.topic("orders")
        try await fixture.appendOrders(orders, count: 10, partition: 0)
        let consumer = try store.consumer(group: "billing", topic: "orders")
        let report = try await consumer.process(retry: exactRetry(maxAttempts: 2), maxRecords: 10, sleep: RecordedSleeps().sleep) { record in
            if record.offset % 4 == 1 { throw HandlerFailure("poison") }
        }
        #expect(report.deadLetteredRecords == 3)
        #expect(try counter(metrics, "streamstore_dead_letters_total", [("topic", "orders")]) == 3)
        // The dead-letter topic's own appends are counted as appends of its topic.
        #expect(try counter(metrics, "streamstore_appended_records_total", [("topic", "orders.dlq"), ("partition", "0")]) == 3)
    }

    @Test func aStoreReopenedWithTheSameFactoryGoesOnCountingTheSameSeries() async throws {
        let fixture = try StoreFixture()
        let metrics = TestMetrics()
        try fixture.open(metrics: metrics)
        try await fixture.append(try fixture.topic(), count: 10)
        try fixture.store?.close()
        try fixture.open(metrics: metrics)
        try await fixture.append(try fixture.topic(), count: 5, first: 10)
        #expect(try counter(metrics, "streamstore_appended_records_total", dimensions()) == 15)
        // Another store's factory sees none of it.
        let other = TestMetrics()
        let otherFixture = try StoreFixture()
        try otherFixture.open(metrics: other)
        _ = try otherFixture.topic()
        #expect(try counter(other, "streamstore_appended_records_total", dimensions()) == 0)
    }
}

extension StoreFixture {
    /// Opens the store with its metrics going to `metrics`.
    @discardableResult
    func open(metrics: TestMetrics) throws -> Store {
        let opened = try Store.open(at: path, options: Store.Options(clock: clock, metricsFactory: metrics))
        store = opened
        return opened
    }
}
